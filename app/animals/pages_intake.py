"""The intake table (many rows at once, all or none) and the spreadsheet import.

Both pages turn rows of text into service rows (app/animals/importer.py) and call
services.admit_animals once, inside a SAVEPOINT: when any row is refused — by the
service's rules or because a species name or enclosure code matches nothing — the
savepoint is rolled back and nothing is stored. The import's preview runs the same
call and always rolls back, so preview and confirm check exactly the same rules.
"""

import json

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import escape
from sqlalchemy import select

from app.animals import importer, queries, services
from app.animals.models import AgeClass, IntakeCondition, Sex
from app.animals.views import bp
from app.auth.permissions import require
from app.extensions import db
from app.reference.models import Species
from app.reference.queries import enclosures_stmt, species_stmt

TABLE_FIELDS = ("species", "species_id", "quantity", "sex", "age_class", "intake_condition", "weight_g",
                "enclosure", "name", "identifiers")
# The service's field names, as the columns of the table and the file call them.
COLUMN_OF = {"species_id": "species", "intake_weight_g": "weight_g", "enclosure_id": "enclosure"}
START_ROWS = 5


def _enclosures(case):
    """The case facility's enclosures, quarantine ones first (where seized animals usually go)."""
    rows = db.session.execute(enclosures_stmt(facility_id=case.facility_id)).scalars().all()
    return sorted(rows, key=lambda e: (not e.is_quarantine, e.section, e.code))


def _choices():
    return {"sexes": [s.value for s in Sex], "age_classes": [a.value for a in AgeClass],
            "conditions": [c.value for c in IntakeCondition]}


def admit(case, raw_rows: list[dict], *, by_code: bool, store: bool):
    """Check (and, if `store` and all valid, admit) the non-blank rows.

    Returns (errors by index in raw_rows, form-level errors, resolved rows, admitted animals).
    """
    kept = [i for i, raw in enumerate(raw_rows) if not importer.is_blank(raw)]
    texts = {raw_rows[i]["species"].strip() for i in kept}
    resolved = importer.resolve_species(texts)
    codes = importer.enclosures_by_code(case.facility_id, {raw_rows[i]["enclosure"] for i in kept}) if by_code else {}
    hints = _hinted_species([raw_rows[i] for i in kept])
    service_rows, own_errors, shown = [], {}, []
    for n, i in enumerate(kept):
        raw = raw_rows[i]
        species, message = resolved[raw["species"].strip()]
        hinted = hints.get(n)
        if species is None and hinted is not None:
            species, message = hinted, None
        errors = {"species": [message]} if message else {}
        enclosure_text = (raw.get("enclosure") or "").strip()
        enclosure, enclosure_id = None, None
        if enclosure_text and by_code:
            enclosure = codes.get(enclosure_text.lower())
            if enclosure is None:
                errors["enclosure"] = [_("No enclosure with code %(code)s at this facility.", code=enclosure_text)]
            else:
                enclosure_id = enclosure.id
        elif enclosure_text:
            enclosure_id = importer.parse_int(enclosure_text)
        if errors:
            own_errors[n] = errors
        service_rows.append(importer.to_service_row(raw, species, enclosure_id))
        shown.append({"index": i, "raw": raw, "species": species, "enclosure": enclosure})
    row_errors, form_errors, animals = {}, [], []
    with db.session.begin_nested() as savepoint:
        try:
            animals = services.admit_animals(case, service_rows, user=current_user)
        except services.IntakeError as error:
            form_errors = [m for messages in error.fields.values() for m in messages]
            for n, errs in error.rows.items():
                row_errors[kept[n]] = {COLUMN_OF.get(k, k): v for k, v in errs.items()}
        for n, errs in own_errors.items():
            row_errors.setdefault(kept[n], {}).update(errs)  # the more precise message wins
        if row_errors or form_errors or not store:
            savepoint.rollback()
            animals = []
    return row_errors, form_errors, shown, animals


def _hinted_species(rows: list[dict]) -> dict[int, Species]:
    """{row number: species intake.js chose from the list}, where the text still shows that species (one query)."""
    hints = {n: importer.parse_int(raw.get("species_id") or "") for n, raw in enumerate(rows)}
    ids = {h for h in hints.values() if isinstance(h, int)}
    if not ids:
        return {}
    found = {s.id: s for s in db.session.execute(select(Species).where(Species.id.in_(ids))).scalars()}
    return {n: found[h] for n, h in hints.items()
            if h in found and importer.species_label(found[h]) == rows[n]["species"].strip()}


def _admitted_message(animals) -> str:
    return _("%(records)d records, %(animals)d animals admitted.", records=len(animals),
             animals=sum(a.intake_quantity for a in animals))


# --- the intake table --------------------------------------------------------------

@bp.route("/cases/<int:case_id>/intake", methods=["GET", "POST"])
@require("animal.admit")
def intake(case_id: int):
    case = queries.get_case(case_id)
    if request.method == "GET":
        rows = [dict.fromkeys(TABLE_FIELDS, "") | {"quantity": "1"} for _ in range(START_ROWS)]
        return _intake_page(case, rows)
    lists = {field: request.form.getlist(field) for field in TABLE_FIELDS}
    count = max((len(v) for v in lists.values()), default=0)
    rows = [{field: (lists[field][i] if i < len(lists[field]) else "") for field in TABLE_FIELDS}
            for i in range(count)]
    row_errors, form_errors, _shown, animals = admit(case, rows, by_code=False, store=True)
    if row_errors or form_errors:
        db.session.rollback()
        return _intake_page(queries.get_case(case_id), rows or [dict.fromkeys(TABLE_FIELDS, "")], row_errors,
                            form_errors, status=422)
    message = _admitted_message(animals)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("animals.case_detail", case_id=case_id))


def _intake_page(case, rows, row_errors=None, form_errors=None, status=200):
    return render_template("animals/intake.html", case=case, rows=rows, row_errors=row_errors or {},
                           form_errors=form_errors or [], enclosures=_enclosures(case), **_choices()), status


@bp.get("/species/options")
@require("animal.admit")
def species_options():
    """<option> elements for the species box's datalist: names matching ?q= (at most 20)."""
    q = request.args.get("q", "").strip()
    if len(q) < 1:
        return Response("", mimetype="text/html")
    found = db.session.execute(species_stmt(q).limit(20)).scalars().all()
    html = "".join(
        f'<option value="{escape(importer.species_label(s))}" data-id="{s.id}">{escape(s.common_name_km or "")}'
        "</option>" for s in found)
    return Response(html, mimetype="text/html")


# --- the spreadsheet import --------------------------------------------------------

@bp.get("/cases/import-template.csv")
@require("animal.admit")
def import_template():
    return Response("\ufeff" + importer.template_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=intake-template.csv"})


@bp.route("/cases/<int:case_id>/import", methods=["GET", "POST"])
@require("animal.admit")
def import_animals(case_id: int):
    """Upload → preview (nothing stored) → confirm (all rows admitted in one transaction)."""
    case = queries.get_case(case_id)
    if request.method == "GET":
        return _import_page(case)
    confirming = "rows_json" in request.form
    try:
        raw_rows = _confirmed_rows() if confirming else _uploaded_rows()
    except importer.ImportFileError as error:
        return _import_page(case, file_error=str(error), status=422)
    row_errors, form_errors, shown, animals = admit(case, raw_rows, by_code=True, store=confirming)
    if confirming and animals:
        message = _admitted_message(animals)
        db.session.commit()
        flash(message, "success")
        return redirect(url_for("animals.case_detail", case_id=case_id))
    db.session.rollback()
    valid = not row_errors and not form_errors
    # The preview's species and enclosures were read inside the rolled-back savepoint: show plain values.
    preview = [{"index": r["index"], "raw": r["raw"],
                "species": importer.species_label(r["species"]) if r["species"] else "",
                "enclosure": str(r["enclosure"]) if r["enclosure"] else ""} for r in shown]
    return _import_page(queries.get_case(case_id), preview=preview, row_errors=row_errors, form_errors=form_errors,
                        rows_json=json.dumps(raw_rows) if valid else "",
                        status=200 if valid and not confirming else 422)


def _uploaded_rows() -> list[dict]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise importer.ImportFileError(_("Choose a CSV or XLSX file."))
    data = upload.stream.read(importer.MAX_BYTES + 1)
    return importer.read_upload(data, upload.filename)


def _confirmed_rows() -> list[dict]:
    """The rows the preview posted back; shaped like a file's, then checked all over again."""
    try:
        rows = json.loads(request.form.get("rows_json") or "")
    except ValueError:
        rows = None
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise importer.ImportFileError(_("The preview was lost; upload the file again."))
    return [{column: str(r.get(column) or "") for column in importer.COLUMNS} for r in rows[:importer.MAX_ROWS]]


def _import_page(case, *, file_error=None, preview=None, row_errors=None, form_errors=None, rows_json="",
                 status=200):
    return render_template("animals/intake_import.html", case=case, file_error=file_error, preview=preview,
                           row_errors=row_errors or {}, form_errors=form_errors or [], rows_json=rows_json,
                           columns=importer.COLUMNS, max_rows=importer.MAX_ROWS), status
