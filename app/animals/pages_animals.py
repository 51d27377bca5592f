"""Pages for animals: the list with filters, and the animal record with its timeline."""

from datetime import datetime

from flask import render_template, request
from flask_babel import get_timezone

from app.animals import queries
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
