"""The intake table (many rows at once, all or none) and the spreadsheet import.

Both pages turn rows of text into service rows (app/animals/importer.py) and call
services.admit_animals once, inside a SAVEPOINT: when any row is refused — by the
service's rules or because a species name or enclosure code matches nothing — the
savepoint is rolled back and nothing is stored. The import's preview runs the same
call and always rolls back, so preview and confirm check exactly the same rules.
"""

import json
import re

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import escape

from app.animals import importer, queries, services
from app.animals.models import AgeClass, IntakeCondition, Sex
from app.animals.views import bp
from app.auth.permissions import require
from app.extensions import db
from app.reference.queries import enclosures_stmt, species_stmt

TABLE_FIELDS = importer.COLUMNS
# The service's field names, as the columns of the table and the file call them.
COLUMN_OF = {"species_id": "species", "intake_weight_g": "weight_g", "enclosure_id": "enclosure"}
START_ROWS = 5
ROW_NAME = re.compile(r"^rows-(\d{1,5})-([a-z_]+)$")


def _enclosures(case):
    """The case facility's enclosures, quarantine ones first (where seized animals usually go)."""
    rows = db.session.execute(enclosures_stmt(facility_id=case.facility_id)).scalars().all()
    return sorted(rows, key=lambda e: (not e.is_quarantine, e.section or "", e.code))


def _choices():
    return {"sexes": [s.value for s in Sex], "age_classes": [a.value for a in AgeClass],
            "conditions": [c.value for c in IntakeCondition]}


def admit(case, raw_rows: list[dict], *, by_code: bool, store: bool):
    """Check (and, if `store` and all valid, admit) the non-blank rows.

    Returns (errors by index in raw_rows, form-level errors, what each kept row resolved to, admitted animals).
    Labels are computed before the savepoint: rolling it back expires what was loaded inside.
    """
    kept = [i for i, raw in enumerate(raw_rows) if not importer.is_blank(raw)]
    resolved = importer.resolve_species({raw_rows[i]["species"].strip() for i in kept})
    codes = importer.enclosures_by_code(case.facility_id, {raw_rows[i]["enclosure"] for i in kept}) if by_code else {}
    service_rows, own_errors, shown = [], {}, []
    for n, i in enumerate(kept):
        raw = raw_rows[i]
        species, message = resolved[raw["species"].strip()]
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
        if message := importer.identifier_syntax_error(raw.get("identifiers", "")):
            errors["identifiers"] = [message]
        if errors:
            own_errors[n] = errors
        service_rows.append(importer.to_service_row(raw, species, enclosure_id))
        shown.append({"index": i, "raw": raw,
                      "species": importer.species_label(species) if species else "",
                      "species_ref": str(species.id) if species else raw["species"],
                      "enclosure": f"{enclosure.code} — {enclosure.name}" if enclosure else ""})
    row_errors, form_errors, animals = {}, [], []
    savepoint = db.session.begin_nested()
    keep = False
    try:
        animals = services.admit_animals(case, service_rows, user=current_user)
        keep = store and not own_errors
    except services.IntakeError as error:
        form_errors = [m for messages in error.fields.values() for m in messages]
        for n, errs in error.rows.items():
            row_errors[kept[n]] = {COLUMN_OF.get(k, k): v for k, v in errs.items()}
    finally:
        if keep:
            savepoint.commit()
        else:
            savepoint.rollback()
    for n, errs in own_errors.items():
        row_errors.setdefault(kept[n], {}).update(errs)  # the page's message is the more precise one
    return row_errors, form_errors, shown, animals if keep else []


def _admitted_message(animals) -> str:
    return _("%(records)d records, %(animals)d animals admitted.", records=len(animals),
             animals=sum(a.intake_quantity for a in animals))


# --- the intake table --------------------------------------------------------------

def _blank_row() -> dict:
    return dict.fromkeys(TABLE_FIELDS, "") | {"quantity": "1"}


def _posted_rows() -> list[dict]:
    """The table's rows in displayed order, from indexed names (rows-3-species).

    Indexes need not be contiguous (intake.js never renumbers after a removal). A
    form posted as parallel lists (species=…&species=…) is read too.
    """
    by_index: dict[int, dict] = {}
    for key in request.form:
        match = ROW_NAME.match(key)
        if match and match[2] in TABLE_FIELDS:
            by_index.setdefault(int(match[1]), dict.fromkeys(TABLE_FIELDS, ""))[match[2]] = request.form[key]
    if by_index:
        return [by_index[i] for i in sorted(by_index)]
    lists = {field: request.form.getlist(field) for field in TABLE_FIELDS}
    count = max(len(v) for v in lists.values())
    return [{f: (lists[f][i] if i < len(lists[f]) else "") for f in TABLE_FIELDS} for i in range(count)]


@bp.route("/cases/<int:case_id>/intake", methods=["GET", "POST"])
@require("animal.admit")
def intake(case_id: int):
    """The intake table: every non-empty row is admitted, or none is."""
    case = queries.get_case(case_id)
    if request.method == "GET":
        return _intake_page(case, [_blank_row() for _ in range(START_ROWS)])
    rows = _posted_rows()
    row_errors, form_errors, _shown, animals = admit(case, rows, by_code=False, store=True)
    if row_errors or form_errors:
        db.session.rollback()
        return _intake_page(queries.get_case(case_id), rows or [_blank_row()], row_errors, form_errors)
    message = _admitted_message(animals)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("animals.case_detail", case_id=case_id))


def _intake_page(case, rows, row_errors=None, form_errors=None):
    return render_template("animals/intake.html", case=case, rows=rows, row_errors=row_errors or {},
                           form_errors=form_errors or [], enclosures=_enclosures(case), **_choices())


@bp.get("/species/options")
@require("animal.admit")
def species_options():
    """<option> elements for the species box's datalist: at most 20 species matching ?q= by any name."""
    q = request.args.get("q", "").strip()
    if not q:
        return Response("", mimetype="text/html")
    found = db.session.execute(species_stmt(q).limit(20)).scalars().all()
    html = "".join(f'<option value="{escape(importer.species_label(s))}">{escape(s.common_name_km or "")}</option>'
                   for s in found)
    return Response(html, mimetype="text/html")


# --- the spreadsheet import --------------------------------------------------------

@bp.get("/cases/import-template.csv")
@require("animal.admit")
def import_template():
    """The header and two example rows; the BOM makes Excel read it as UTF-8 (Khmer names)."""
    return Response("\ufeff" + importer.template_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=intake-template.csv"})


@bp.route("/cases/<int:case_id>/import", methods=["GET", "POST"])
@require("animal.admit")
def import_animals(case_id: int):
    """Upload → preview (nothing stored) → confirm (all rows admitted in one transaction, or none)."""
    case = queries.get_case(case_id)
    if request.method == "GET":
        return _import_page(case)
    confirming = "rows_json" in request.form
    try:
        raw_rows = _confirmed_rows() if confirming else _uploaded_rows()
    except importer.ImportFileError as error:
        return _import_page(case, file_error=str(error), status=422)
    row_errors, form_errors, shown, animals = admit(case, raw_rows, by_code=True, store=confirming)
    if animals:
        message = _admitted_message(animals)
        db.session.commit()
        flash(message, "success")
        return redirect(url_for("animals.case_detail", case_id=case_id))
    db.session.rollback()
    valid = not row_errors and not form_errors
    # What the confirm form posts back: each row with its species as a catalogue id (resolved, so a
    # catalogue change between preview and confirm cannot pick another species); the service checks all again.
    resolved = [r["raw"] | {"species": r["species_ref"]} for r in shown]
    return _import_page(queries.get_case(case_id), preview=shown, row_errors=row_errors, form_errors=form_errors,
                        rows_json=json.dumps(resolved) if valid else "", status=422 if confirming else 200)


def _uploaded_rows() -> list[dict]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise importer.ImportFileError(_("Choose a CSV or XLSX file."))
    # Read one byte past the limit: enough to know it is too large without reading all of it.
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
    if len(rows) > importer.MAX_ROWS:
        raise importer.ImportFileError(_("At most %(n)d rows in one file.", n=importer.MAX_ROWS))
    return [{column: str(r.get(column) or "") for column in importer.COLUMNS} for r in rows]


def _import_page(case, *, file_error=None, preview=None, row_errors=None, form_errors=None, rows_json="",
                 status=200):
    return render_template("animals/intake_import.html", case=case, file_error=file_error, preview=preview,
                           row_errors=row_errors or {}, form_errors=form_errors or [], rows_json=rows_json,
                           columns=importer.COLUMNS, max_rows=importer.MAX_ROWS), status
