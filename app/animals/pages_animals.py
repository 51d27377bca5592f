"""Pages for animals: the list with filters, and the animal record with its timeline."""

from dataclasses import dataclass
from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.animals import queries, services
from app.animals.forms_animals import AnimalForm
from app.animals.models import Animal
from app.animals.panels import panels_for
from app.animals.timeline import timeline
from app.animals.views import bp
from app.auth.permissions import can, require
from app.common.pagination import paginate
from app.extensions import db
from app.reference.queries import enclosures_stmt, facilities_stmt, species_stmt


def _int_arg(name):
    return request.args.get(name, type=int)


def _bool_arg(name):
    value = request.args.get(name, "")
    return {"1": True, "0": False}.get(value)


def _date_arg(name):
    try:
        return datetime.strptime(request.args.get(name, ""), "%Y-%m-%d").date()
    except ValueError:
        return None


@bp.get("/animals")
@require("animal.view")
def animal_list():
    status = request.args.get("status", "in_care")
    filters = queries.AnimalFilters(
        facility_id=_int_arg("facility_id"), species_id=_int_arg("species_id"),
        status=None if status == "all" else status, enclosure_id=_int_arg("enclosure_id"),
        case_id=_int_arg("case_id"), q=request.args.get("q") or None,
        admitted_from=_date_arg("admitted_from"), admitted_to=_date_arg("admitted_to"),
        quarantine=_bool_arg("quarantine"), held=_bool_arg("held"), sort=request.args.get("sort", "-admitted"),
    )
    page = paginate(queries.animals_stmt(filters, tz=get_timezone()), _int_arg("page") or 1,
                    _int_arg("per_page") or 50)
    return render_template(
        "animals/animal_list.html", page=page, filters=filters, status=status,
        facilities=db.session.execute(facilities_stmt()).scalars().all(),
        enclosures=db.session.execute(enclosures_stmt()).unique().scalars().all(),
        species=db.session.execute(species_stmt().limit(500)).scalars().all(),
    )


def _sub_lots(animal_id: int) -> list[Animal]:
    """Records split off this one (one query, no relationship loads)."""
    return list(db.session.execute(
        select(Animal).where(Animal.parent_id == animal_id).order_by(Animal.accession_number)
    ).scalars())


def header_context(animal: Animal, attachments=None) -> dict:
    """What templates/animals/_animal_header.html needs, for any page about one animal."""
    if attachments is None:
        attachments = queries.attachments_of(animal_id=animal.id)
    photo = next((a for a in attachments if a.kind == "photo"), None)
    return {"animal": animal, "photo": photo, "sub_lots": _sub_lots(animal.id)}


@bp.get("/animals/<int:animal_id>")
@require("animal.view")
def animal_record(animal_id: int):
    animal = queries.get_animal(animal_id)
    attachments = queries.attachments_of(animal_id=animal.id)
    return render_template(
        "animals/animal_record.html", **header_context(animal, attachments),
        timeline=timeline(animal, max(1, _int_arg("page") or 1), 25),
        moves=[_HistoryRow.of(move) for move in queries.housing_history(animal.id, limit=20)],
        attachments=attachments, panels=panels_for(animal),
    )


@dataclass(frozen=True)
class _HistoryRow:
    """One row of the record's housing history; a move out of quarantine before clearance says why."""

    moved_at: datetime
    from_enclosure: object
    to_enclosure: object
    reason: str

    @classmethod
    def of(cls, move) -> "_HistoryRow":
        reason = move.reason
        if move.quarantine_override:
            early = _("Out of quarantine before a vet cleared it: %(why)s", why=move.quarantine_override)
            reason = f"{reason} · {early}" if reason else early
        return cls(moved_at=move.moved_at, from_enclosure=move.from_enclosure, to_enclosure=move.to_enclosure,
                   reason=reason)


def _enclosure_choices(animal):
    enclosures = db.session.execute(enclosures_stmt(facility_id=animal.facility_id)).unique().scalars().all()
    return enclosures, queries.occupancy([e.id for e in enclosures])


@bp.route("/animals/<int:animal_id>/edit", methods=["GET", "POST"])
@require("animal.edit")
def edit_animal(animal_id: int):
    animal = queries.get_animal(animal_id)
    form = AnimalForm(obj=animal) if request.method == "GET" else AnimalForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate():
            if form.version.data != animal.version:
                status = 409
            else:
                try:
                    services.update_animal(animal, form.values())
                    db.session.commit()
                except services.IntakeError as error:
                    db.session.rollback()
                    form.add_errors(error.fields)
                except StaleDataError:
                    # Someone saved between our check and our UPDATE: the same conflict, caught later.
                    db.session.rollback()
                    animal = queries.get_animal(animal_id)
                    status = 409
                else:
                    flash(_("Record %(n)s is saved.", n=animal.accession_number), "success")
                    return redirect(url_for("animals.animal_record", animal_id=animal.id))
    conflict = status == 409
    if conflict:
        # What the user typed stays in the form; the hidden version becomes the current one, so saving
        # again is a deliberate overwrite of the values shown in the conflict box.
        form.version.data = animal.version
    return render_template("animals/animal_form.html", animal=animal, form=form,
                           conflict=conflict), status


@bp.route("/animals/<int:animal_id>/move", methods=["GET", "POST"])
@require("animal.move")
def move_animal_page(animal_id: int):
    animal = queries.get_animal(animal_id)
    return _move_page([animal], single=animal)


@bp.post("/animals/move")
@require("animal.move")
def bulk_move():
    ids = sorted({int(i) for i in request.form.getlist("animal_ids") if i.isdigit()})
    if not ids:
        flash(_("Tick the animals to move first."), "warning")
        return redirect(request.referrer or url_for("animals.animal_list"))
    animals = queries.animals_by_ids(ids)
    if len(animals) != len(ids):
        # An id the user may not see is treated like one that does not exist.
        abort(404)
    return _move_page(animals)


def _move_page(animals, single=None):
    """Choose an enclosure and a reason; a move that fills an enclosure past capacity is warned, not refused.

    An animal a vet has not cleared may leave a quarantine enclosure only with a
    coordinator's reason (quarantine_override), a field shown to those who may give it.
    """
    enclosures, counts = _enclosure_choices(animals[0])
    may_override = can("quarantine.override")
    override = request.form.get("quarantine_override", "") if may_override else ""
    errors: dict[str, list[str]] = {}
    target_id = request.form.get("to_enclosure_id", type=int)
    status = 200
    if request.method == "POST" and request.form.get("confirm") == "1":
        target = next((e for e in enclosures if e.id == target_id), None)
        if target is None:
            errors["to_enclosure_id"] = [_("Choose an enclosure.")]
        else:
            # Counted before the move: animals already there are in `counts` already.
            arriving = sum(a.quantity for a in animals if a.enclosure_id != target.id)
            try:
                services.move_animals(animals, target, reason=request.form.get("reason", ""), user=current_user,
                                      quarantine_override=override)
            except services.IntakeError as error:
                errors = error.fields
            else:
                db.session.commit()
                flash(_("%(n)d moved to %(code)s.", n=len(animals), code=target.code), "success")
                if target.capacity is not None and counts.get(target.id, 0) + arriving > target.capacity:
                    flash(_("%(code)s is now over its capacity of %(cap)d.", code=target.code, cap=target.capacity),
                          "warning")
                if single is not None:
                    return redirect(url_for("animals.animal_record", animal_id=single.id))
                return redirect(url_for("animals.enclosure_animals", enclosure_id=target.id))
        status = 422
    moving = sum(a.quantity for a in animals)
    already_in: dict[int, int] = {}  # animals of this move already housed there add nothing to that enclosure
    for a in animals:
        if a.enclosure_id is not None:
            already_in[a.enclosure_id] = already_in.get(a.enclosure_id, 0) + a.quantity
    return render_template("animals/animal_move.html", already_in=already_in, animals=animals, single=single,
                           enclosures=enclosures, counts=counts, moving=moving, errors=errors, target_id=target_id,
                           reason=request.form.get("reason", ""), may_override=may_override,
                           quarantine_override=override), status


@bp.route("/animals/<int:animal_id>/split", methods=["GET", "POST"])
@require("animal.split")
def split_animal_page(animal_id: int):
    animal = queries.get_animal(animal_id)
    enclosures, counts = _enclosure_choices(animal)
    errors = {}
    if request.method == "POST":
        quantity = request.form.get("quantity", type=int)
        enclosure_id = request.form.get("enclosure_id", type=int)
        target = next((e for e in enclosures if e.id == enclosure_id), None)
        try:
            if enclosure_id is not None and target is None:
                raise services.IntakeError({"enclosure_id": [_("Choose an enclosure of the animal's facility.")]})
            child = services.split_animal(animal, quantity=quantity if quantity is not None else 0, enclosure=target,
                                          user=current_user, reason=request.form.get("reason", ""))
        except services.IntakeError as error:
            errors = error.fields
        else:
            db.session.commit()
            flash(_("%(n)d split off into %(acc)s.", n=child.quantity, acc=child.accession_number), "success")
            return redirect(url_for("animals.animal_record", animal_id=child.id))
    return render_template("animals/animal_split.html", animal=animal, enclosures=enclosures, counts=counts,
                           errors=errors, form=request.form), 200 if not errors else 422
