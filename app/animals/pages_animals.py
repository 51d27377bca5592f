"""Pages for animals: the list with filters, and the animal record with its timeline."""

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user

from app.animals import queries, services
from app.animals.forms_animals import AnimalForm
from app.animals.timeline import timeline
from app.animals.views import bp
from app.auth.permissions import require
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
        today=datetime.now(get_timezone()).date(),
    )


@bp.get("/animals/<int:animal_id>")
@require("animal.view")
def animal_record(animal_id: int):
    animal = queries.get_animal(animal_id)
    return render_template(
        "animals/animal_record.html", animal=animal,
        timeline=timeline(animal, _int_arg("page") or 1, 25),
        moves=queries.housing_history(animal.id, limit=20),
        attachments=queries.attachments_of(animal_id=animal.id),
        today=datetime.now(get_timezone()).date(),
    )


def _enclosure_choices(animal):
    enclosures = db.session.execute(enclosures_stmt(facility_id=animal.facility_id)).unique().scalars().all()
    return enclosures, queries.occupancy([e.id for e in enclosures])


@bp.route("/animals/<int:animal_id>/edit", methods=["GET", "POST"])
@require("animal.edit")
def edit_animal(animal_id: int):
    animal = queries.get_animal(animal_id)
    form = AnimalForm(obj=animal) if request.method == "GET" else AnimalForm()
    status = 200
    if request.method == "POST" and form.validate():
        if form.version.data != animal.version:
            flash(_("Someone else changed this record while you were editing. Check the current values "
                    "below; what you typed is kept."), "warning")
            status = 409
        else:
            try:
                services.update_animal(animal, form.values())
            except services.IntakeError as error:
                form.add_errors(error.fields)
            else:
                db.session.commit()
                flash(_("Record %(n)s is saved.", n=animal.accession_number), "success")
                return redirect(url_for("animals.animal_record", animal_id=animal.id))
    return render_template("animals/animal_form.html", animal=animal, form=form), status


@bp.route("/animals/<int:animal_id>/move", methods=["GET", "POST"])
@require("animal.move")
def move_animal_page(animal_id: int):
    animal = queries.get_animal(animal_id)
    return _move_page([animal], single=animal)


@bp.post("/animals/move")
@require("animal.move")
def bulk_move():
    ids = sorted({int(i) for i in request.form.getlist("animal_ids") if i.isdigit()})
    animals = queries.animals_by_ids(ids)
    if not ids or len(animals) != len(ids):
        abort(404)
    return _move_page(animals)


def _move_page(animals, single=None):
    """Choose an enclosure and a reason; a move that fills an enclosure past capacity is warned, not refused."""
    enclosures, counts = _enclosure_choices(animals[0])
    errors = []
    target_id = request.form.get("to_enclosure_id", type=int)
    if request.method == "POST" and request.form.get("confirm") == "1":
        target = next((e for e in enclosures if e.id == target_id), None)
        if target is None:
            errors.append(_("Choose an enclosure."))
        else:
            try:
                services.move_animals(animals, target, reason=request.form.get("reason", ""), user=current_user)
            except services.IntakeError as error:
                errors.extend(m for messages in error.fields.values() for m in messages)
            else:
                db.session.commit()
                flash(_("%(n)d moved to %(code)s.", n=len(animals), code=target.code), "success")
                if single is not None:
                    return redirect(url_for("animals.animal_record", animal_id=single.id))
                return redirect(url_for("animals.enclosure_animals", enclosure_id=target.id))
    moving = sum(a.quantity for a in animals)
    return render_template("animals/animal_move.html", animals=animals, single=single, enclosures=enclosures,
                           counts=counts, moving=moving, errors=errors, target_id=target_id,
                           reason=request.form.get("reason", ""))


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
