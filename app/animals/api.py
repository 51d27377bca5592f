"""/api/v1/cases and /api/v1/animals: intake, holds, custody, housing, lots, timeline."""

from flask import current_app
from flask_babel import get_timezone
from flask_login import current_user
from flask_smorest import abort

from app.animals import queries, services
from app.animals.schemas import (
    AnimalPatchSchema,
    AnimalQuerySchema,
    AnimalSchema,
    CasePatchSchema,
    CaseQuerySchema,
    CaseSchema,
    HandoverSchema,
    HoldChangeSchema,
    HoldReviewSchema,
    HoldSchema,
    IntakeSchema,
    MoveResultSchema,
    MoveSchema,
    SplitSchema,
    TimelineSchema,
)
from app.animals.timeline import timeline
from app.api import PageArgs, api_blueprint, check_version, list_schema, refused_as_422
from app.auth.permissions import can, require
from app.common.idempotency import idempotent
from app.common.pagination import paginate
from app.extensions import db
from app.reference.queries import get_enclosure, get_facility

cases_bp = api_blueprint("cases", __name__, "Seizures and other intakes, evidence holds and custody.")
animals_bp = api_blueprint("animals", __name__, "Animals and lots: records, housing, splits, timeline.")


def _restricted_input(values: dict) -> None:
    """Roles that may not see restricted fields may not write them either."""
    if not can("restricted_fields.view"):
        for name in CaseSchema.RESTRICTED:
            values.pop(name, None)


@cases_bp.get("")
@require("case.view")
@cases_bp.arguments(CaseQuerySchema, location="query")
@cases_bp.arguments(PageArgs, location="query")
@cases_bp.response(200, list_schema(CaseSchema))
def list_cases(filters, args):
    """Cases at your facilities, newest first; ?q= matches references, agency and place."""
    stmt = queries.cases_stmt(q=filters.get("q"), facility_id=filters.get("facility_id"),
                              held=filters.get("evidence_hold"))
    return paginate(stmt, args["page"], args["per_page"]).envelope()


@cases_bp.post("")
@require("case.manage")
@idempotent
@cases_bp.arguments(CaseSchema)
@cases_bp.response(201, CaseSchema)
def create_case(args):
    """Record a seizure or intake; the reference (C-YYYY-NNNN) is given by the server."""
    facility = get_facility(args.pop("facility_id"))
    _restricted_input(args)
    with refused_as_422():
        case = services.create_case(facility=facility, user=current_user, **args)
    db.session.commit()
    return case


@cases_bp.get("/<int:case_id>")
@require("case.view")
@cases_bp.response(200, CaseSchema)
def get_case(case_id):
    return queries.get_case(case_id)


@cases_bp.patch("/<int:case_id>")
@require("case.manage")
@cases_bp.arguments(CasePatchSchema)
@cases_bp.response(200, CaseSchema)
def patch_case(args, case_id):
    case = queries.get_case(case_id)
    check_version(case, args.pop("version"), CaseSchema())
    with refused_as_422():
        services.update_case(case, args)
    db.session.commit()
    return case


@cases_bp.post("/<int:case_id>/animals")
@require("animal.admit")
@idempotent
@cases_bp.arguments(IntakeSchema)
@cases_bp.response(201, list_schema(AnimalSchema))
def admit_animals(args, case_id):
    """Admit every row or none; each row gets an accession number (YYYY-NNNNN)."""
    case = queries.get_case(case_id)
    with refused_as_422():
        animals = services.admit_animals(case, args["animals"], user=current_user)
    db.session.commit()
    ids = {a.id for a in animals}
    items = [a for a in queries.case_animals(case.id) if a.id in ids]
    return {"items": items, "meta": {"page": 1, "per_page": len(items), "total": len(items)}}


@cases_bp.post("/<int:case_id>/evidence-hold")
@require("case.hold")
@cases_bp.arguments(HoldSchema)
@cases_bp.response(201, HoldChangeSchema)
def set_evidence_hold(args, case_id):
    """Set (active=true) or lift (active=false) the case's evidence hold, with a reason."""
    case = queries.get_case(case_id)
    with refused_as_422():
        change = services.set_evidence_hold(case, active=args["active"], reason=args["reason"], user=current_user)
    db.session.commit()
    return change


@cases_bp.post("/<int:case_id>/evidence-hold/review")
@require("case.hold")
@cases_bp.arguments(HoldReviewSchema)
@cases_bp.response(201, HoldChangeSchema)
def review_evidence_hold(args, case_id):
    """Confirm the case's active evidence hold is still needed, with a reason (clears its review alert)."""
    case = queries.get_case(case_id)
    with refused_as_422():
        change = services.review_evidence_hold(case, reason=args["reason"], user=current_user)
    db.session.commit()
    return change


@cases_bp.post("/<int:case_id>/handovers")
@require("custody.record")
@idempotent
@cases_bp.arguments(HandoverSchema)
@cases_bp.response(201, HandoverSchema)
def record_handover(args, case_id):
    """A custody hand-over of the whole case, or of one of its animals (animal_id)."""
    case = queries.get_case(case_id)
    animal_id = args.pop("animal_id")
    animal = queries.get_animal(animal_id) if animal_id else None
    with refused_as_422():
        handover = services.record_handover(case, animal=animal, user=current_user, **args)
    db.session.commit()
    return handover


@animals_bp.get("")
@require("animal.view")
@animals_bp.arguments(AnimalQuerySchema, location="query")
@animals_bp.arguments(PageArgs, location="query")
@animals_bp.response(200, list_schema(AnimalSchema))
def list_animals(filters, args):
    """Animals at your facilities; by default those in care (?status=left_care for the others)."""
    stmt = queries.animals_stmt(queries.AnimalFilters(
        facility_id=filters.get("facility_id"), species_id=filters.get("species_id"),
        status=filters.get("status", "in_care"), enclosure_id=filters.get("enclosure_id"),
        case_id=filters.get("case_id"), q=filters.get("q"), admitted_from=filters.get("admitted_from"),
        admitted_to=filters.get("admitted_to"), quarantine=filters.get("in_quarantine"),
        held=filters.get("evidence_hold"), sort=filters.get("sort", "-admitted")), tz=get_timezone())
    return paginate(stmt, args["page"], args["per_page"]).envelope()


@animals_bp.get("/<int:animal_id>")
@require("animal.view")
@animals_bp.response(200, AnimalSchema)
def get_animal(animal_id):
    return queries.get_animal(animal_id)


@animals_bp.patch("/<int:animal_id>")
@require("animal.edit")
@animals_bp.arguments(AnimalPatchSchema)
@animals_bp.response(200, AnimalSchema)
def patch_animal(args, animal_id):
    animal = queries.get_animal(animal_id)
    check_version(animal, args.pop("version"), AnimalSchema())
    with refused_as_422():
        services.update_animal(animal, args)
    db.session.commit()
    return queries.get_animal(animal_id)


@animals_bp.post("/<int:animal_id>/moves")
@require("animal.move")
@idempotent
@animals_bp.arguments(MoveSchema)
@animals_bp.response(201, MoveResultSchema)
def move_animal(args, animal_id):
    animal = queries.get_animal(animal_id)
    enclosure = get_enclosure(args["to_enclosure_id"])
    with refused_as_422():
        moves = services.move_animals([animal], enclosure, reason=args["reason"], user=current_user,
                                      quarantine_override=args["quarantine_override"])
    if not moves:
        abort(422, message="The animal is already in this enclosure.",
              errors={"json": {"to_enclosure_id": ["The animal is already there."]}})
    db.session.commit()
    return moves[0]


@animals_bp.post("/<int:animal_id>/split")
@require("animal.split")
@idempotent
@animals_bp.arguments(SplitSchema)
@animals_bp.response(201, AnimalSchema)
def split_animal(args, animal_id):
    """Split `quantity` animals off a lot into a new record (returned)."""
    animal = queries.get_animal(animal_id)
    enclosure = get_enclosure(args["enclosure_id"]) if args["enclosure_id"] else None
    with refused_as_422():
        child = services.split_animal(animal, quantity=args["quantity"], enclosure=enclosure, user=current_user,
                                      reason=args["reason"])
    db.session.commit()
    return queries.get_animal(child.id)


@animals_bp.get("/<int:animal_id>/timeline")
@require("animal.view")
@animals_bp.arguments(PageArgs, location="query")
@animals_bp.response(200, TimelineSchema)
def animal_timeline(args, animal_id):
    """Everything that happened to the animal, newest first."""
    animal = queries.get_animal(animal_id)
    per_page = min(args["per_page"], current_app.config["API_MAX_PER_PAGE"])
    return timeline(animal, args["page"], per_page)
