"""The release and outcomes JSON API (API.md, Release and outcomes).

Reads need "release.view" (everyone). Checklists are the coordinators' ("release.criteria"),
so are sites ("release.site") and plans ("release.plan"); a vet signs a plan off
("release.signoff"); staff assess manual criteria and record post-release observations.
An animal's outcomes are recorded by who may record that kind: deaths and euthanasia by
vets, transfers out of the network and escapes by coordinators; releases only by
completing a plan. An evidence hold refuses with 409 naming the case; other refusals
are 422 with field messages. Plans and animals at another facility are 404. The plans'
endpoints are in api_plans.py and share this module's answers to refusals.
"""

from contextlib import contextmanager

from flask_login import current_user
from flask_smorest import abort
from sqlalchemy import select

from app.animals.models import Animal, Case, OutcomeKind
from app.animals.queries import get_animal_columns
from app.api import PageArgs, api_blueprint, check_version, committed, list_schema, refused_as_422
from app.auth.models import Facility
from app.auth.permissions import can, deny, require
from app.common.db import utcnow
from app.common.errors import RuleError
from app.common.idempotency import idempotent
from app.common.pagination import paginate
from app.extensions import db
from app.releases import monitoring, services, transfers
from app.releases.models import (
    Assessment,
    Observation,
    ReleaseCriterion,
    ReleaseSite,
)
from app.releases.readiness import readiness
from app.releases.schemas import (
    AssessmentSchema,
    CriterionPatchSchema,
    CriterionQuerySchema,
    CriterionSchema,
    ObservationSchema,
    OutcomeSchema,
    ReadinessSchema,
    SitePatchSchema,
    SiteQuerySchema,
    SiteSchema,
    TransferSchema,
)
from app.releases.services import HoldError
from app.vet import deaths

criteria_bp = api_blueprint("release_criteria", __name__, "Release checklists of species and taxon classes.")
sites_bp = api_blueprint("release_sites", __name__, "Release sites.")
animal_release_bp = api_blueprint("animal_release", __name__, "An animal's readiness, assessments, outcomes, "
                                                                "observations and transfers.")

_HOLD_409 = "An animal is under an evidence hold (error.case names the case); nothing overrides it."


def _held_case(animal_ids) -> dict | None:
    """The first case under an evidence hold among the animals' cases, as {id, reference}."""
    ids = [i for i in animal_ids if isinstance(i, int)]
    if not ids:
        return None
    row = db.session.execute(
        select(Case.id, Case.reference).join(Animal, Animal.case_id == Case.id)
        .where(Animal.id.in_(ids), Case.evidence_hold.is_(True)).order_by(Case.reference).limit(1)
    ).first()
    return {"id": row.id, "reference": row.reference} if row else None


@contextmanager
def _refused(animal_ids=()):
    """A service's refusal: an evidence hold → 409 naming the case; any other rule → 422. Nothing is stored."""
    with refused_as_422():
        try:
            yield
        except HoldError as error:
            db.session.rollback()
            messages = " ".join(str(m) for messages in error.fields.values() for m in messages)
            extra = {"case": case} if (case := _held_case(animal_ids)) else {}
            abort(409, message=messages or "Under an evidence hold.", errors={"json": error.api_fields()}, **extra)
        except RuleError:
            db.session.rollback()  # a plan's completion may have written some outcomes before it was refused
            raise


def _invalid(field: str, message: str):
    abort(422, message="The request has invalid fields.", errors={"json": {field: [message]}})


# --- criteria -------------------------------------------------------------------------------

@criteria_bp.get("")
@require("release.view")
@criteria_bp.arguments(CriterionQuerySchema, location="query")
@criteria_bp.arguments(PageArgs, location="query")
@criteria_bp.response(200, list_schema(CriterionSchema))
def list_criteria(filters, args):
    """Checklist items: classes' first, then species', by kind and key; ?species_id=&taxon_class=&kind=&active=."""
    stmt = (select(ReleaseCriterion)
            .order_by(ReleaseCriterion.taxon_class.nulls_last(), ReleaseCriterion.species_id, ReleaseCriterion.kind,
                      ReleaseCriterion.key, ReleaseCriterion.id))
    for column, name in ((ReleaseCriterion.species_id, "species_id"), (ReleaseCriterion.taxon_class, "taxon_class"),
                         (ReleaseCriterion.kind, "kind"), (ReleaseCriterion.is_active, "active")):
        if name in filters:
            stmt = stmt.where(column == filters[name])
    return paginate(stmt, args["page"], args["per_page"]).envelope()


@criteria_bp.post("")
@require("release.criteria")
@idempotent
@criteria_bp.arguments(CriterionSchema)
@criteria_bp.response(201, CriterionSchema)
def create_criterion(args):
    """Add a checklist item of a species (species_id) or a taxon class (taxon_class)."""
    with _refused():
        criterion = services.save_criterion(None, args)
    return committed(CriterionSchema().dump(criterion))


@criteria_bp.get("/<int:criterion_id>")
@require("release.view")
@criteria_bp.response(200, CriterionSchema)
def get_criterion(criterion_id):
    return db.get_or_404(ReleaseCriterion, criterion_id)


@criteria_bp.patch("/<int:criterion_id>")
@require("release.criteria")
@criteria_bp.arguments(CriterionPatchSchema)
@criteria_bp.response(200, CriterionSchema)
@criteria_bp.alt_response(409, description="The criterion changed since it was read (error.current holds it).")
def patch_criterion(args, criterion_id):
    """Change a checklist item with the version read; is_active=false retires it."""
    criterion = db.get_or_404(ReleaseCriterion, criterion_id)
    check_version(criterion, args.pop("version"), CriterionSchema())
    with _refused():
        services.save_criterion(criterion, args)
    return committed(CriterionSchema().dump(criterion), 200)


# --- readiness and assessments ---------------------------------------------------------------

@animal_release_bp.get("/animals/<int:animal_id>/readiness")
@require("release.view")
@animal_release_bp.response(200, ReadinessSchema)
def get_readiness(animal_id):
    """The animal's release checklist now: each criterion met or not, and why not."""
    animal = get_animal_columns(animal_id)
    state = readiness(animal, utcnow())
    unmet = {u.key for u in state.unmet}
    return {"animal_id": animal.id, "ready": state.ready, "releasability": state.releasability,
            "unmet": [{"key": u.key, "reason": str(u.reason)} for u in state.unmet],
            "criteria": [{"key": c.key, "kind": c.kind, "label": c.label, "met": c.key not in unmet}
                         for c in state.criteria]}


@animal_release_bp.get("/animals/<int:animal_id>/assessments")
@require("release.view")
@animal_release_bp.arguments(PageArgs, location="query")
@animal_release_bp.response(200, list_schema(AssessmentSchema))
def list_assessments(args, animal_id):
    """The animal's assessments, newest first."""
    animal = get_animal_columns(animal_id)
    stmt = (select(Assessment).where(Assessment.animal_id == animal.id)
            .order_by(Assessment.assessed_at.desc(), Assessment.id.desc()))
    return paginate(stmt, args["page"], args["per_page"]).envelope()


@animal_release_bp.post("/animals/<int:animal_id>/assessments")
@require("release.assess")
@idempotent
@animal_release_bp.arguments(AssessmentSchema)
@animal_release_bp.response(201, AssessmentSchema)
def create_assessment(args, animal_id):
    """Pass or fail on one of the animal's manual criteria; valid for the criterion's expires_days."""
    animal = get_animal_columns(animal_id)
    with _refused():
        assessment = services.record_assessment(animal, user=current_user, criterion=args["criterion_key"],
                                                result=args["result"], assessed_at=args["assessed_at"],
                                                notes=args["notes"])
    return committed(AssessmentSchema().dump(assessment))


# --- sites ----------------------------------------------------------------------------------

def _site_input(values: dict) -> dict:
    """Roles that may not see coordinates may not write them either."""
    if not can("restricted_fields.view"):
        for name in ReleaseSite.RESTRICTED:
            values.pop(name, None)
    return values


@sites_bp.get("")
@require("release.view")
@sites_bp.arguments(SiteQuerySchema, location="query")
@sites_bp.arguments(PageArgs, location="query")
@sites_bp.response(200, list_schema(SiteSchema))
def list_sites(filters, args):
    """Release sites by name; ?active=true|false. Coordinates only for roles that may see them."""
    stmt = select(ReleaseSite).order_by(ReleaseSite.name, ReleaseSite.id)
    if "active" in filters:
        stmt = stmt.where(ReleaseSite.is_active.is_(filters["active"]))
    return paginate(stmt, args["page"], args["per_page"]).envelope()


@sites_bp.post("")
@require("release.site")
@idempotent
@sites_bp.arguments(SiteSchema)
@sites_bp.response(201, SiteSchema)
def create_site(args):
    """A release site (names are unique); give both coordinates or neither."""
    with _refused():
        site = services.save_site(None, _site_input(args))
    return committed(SiteSchema().dump(site))


@sites_bp.get("/<int:site_id>")
@require("release.view")
@sites_bp.response(200, SiteSchema)
def get_site(site_id):
    return db.get_or_404(ReleaseSite, site_id)


@sites_bp.patch("/<int:site_id>")
@require("release.site")
@sites_bp.arguments(SitePatchSchema)
@sites_bp.response(200, SiteSchema)
@sites_bp.alt_response(409, description="The site changed since it was read (error.current holds it).")
def patch_site(args, site_id):
    """Change a site with the version read; is_active=false retires it."""
    site = db.get_or_404(ReleaseSite, site_id)
    check_version(site, args.pop("version"), SiteSchema())
    with _refused():
        services.save_site(site, _site_input(args))
    return committed(SiteSchema().dump(site), 200)


# --- outcomes -------------------------------------------------------------------------------

# Who may record each way of leaving care; a release comes only from a completed plan.
_OUTCOME_PERMISSIONS = {
    OutcomeKind.DIED: "vet.write",
    OutcomeKind.EUTHANIZED: "vet.write",
    OutcomeKind.TRANSFERRED: "transfer.record",
    OutcomeKind.ESCAPED: "transfer.record",
}


@animal_release_bp.post("/animals/<int:animal_id>/outcomes")
@require("release.view")
@idempotent
@animal_release_bp.arguments(OutcomeSchema)
@animal_release_bp.response(201, OutcomeSchema)
@animal_release_bp.alt_response(403, description="A kind your role may not record.")
@animal_release_bp.alt_response(409, description="A transfer out of an animal under an evidence hold.")
def create_outcome(args, animal_id):
    """Animals leaving care; the count leaves the record (at 0 it has left care).

    died | euthanized (vets; a euthanasia needs a reason, and under an evidence hold a
    coordinator's authorisation first); transferred out of the network (institution,
    country and permit_numbers; not under an evidence hold) | escaped (coordinators).
    """
    kind = args.pop("kind")
    permission = _OUTCOME_PERMISSIONS.get(kind)
    if permission is None:
        if not any(can(p) for p in set(_OUTCOME_PERMISSIONS.values())):
            deny("release.plan")
    elif not can(permission):
        deny(permission)
    animal = get_animal_columns(animal_id)
    if permission is None:
        _invalid("kind", "Releases are recorded by completing a release plan.")
    common = {"user": current_user, "occurred_at": args["occurred_at"], "count": args["count"],
              "notes": args["notes"]}
    with _refused([animal.id]):
        if kind == OutcomeKind.DIED:
            outcome = deaths.record_death(animal, cause=args["cause"], necropsy_findings=args["necropsy_findings"],
                                          **common)
        elif kind == OutcomeKind.EUTHANIZED:
            outcome = deaths.record_euthanasia(animal, reason=args["reason"], cause=args["cause"],
                                               necropsy_findings=args["necropsy_findings"], **common)
        elif kind == OutcomeKind.TRANSFERRED:
            outcome = transfers.transfer_out(animal, institution=args["institution"], country=args["country"],
                                             permit_numbers=args["permit_numbers"], **common)
        else:
            outcome = transfers.record_escape(animal, **common)
    return committed(OutcomeSchema().dump(outcome))


# --- transfers within the network -----------------------------------------------------------

@animal_release_bp.post("/animals/<int:animal_id>/transfers")
@require("transfer.record")
@idempotent
@animal_release_bp.arguments(TransferSchema)
@animal_release_bp.response(201, TransferSchema)
@animal_release_bp.alt_response(409, description=_HOLD_409)
def create_transfer(args, animal_id):
    """Move the record (or `count` of a lot, split off into a new record) to another facility, with its custody."""
    animal = get_animal_columns(animal_id)
    to_facility = db.session.get(Facility, args.pop("to_facility_id"))
    if to_facility is None:
        _invalid("to_facility_id", "No such facility.")
    with _refused([animal.id]):
        transfer = transfers.transfer_within_network(animal, to_facility=to_facility, user=current_user, **args)
    moved = db.session.get(Animal, transfer.animal_id)
    body = TransferSchema().dump(transfer)
    body.update(source_animal_id=animal_id, quantity=moved.quantity)
    return committed(body)


# --- post-release observations --------------------------------------------------------------

@animal_release_bp.get("/animals/<int:animal_id>/observations")
@require("release.view")
@animal_release_bp.arguments(PageArgs, location="query")
@animal_release_bp.response(200, list_schema(ObservationSchema))
def list_observations(args, animal_id):
    """Observations of the animal since its release, newest first. Coordinates only for roles that may see them."""
    animal = get_animal_columns(animal_id)
    stmt = (select(Observation).where(Observation.animal_id == animal.id)
            .order_by(Observation.observed_at.desc(), Observation.id.desc()))
    return paginate(stmt, args["page"], args["per_page"]).envelope()


@animal_release_bp.post("/animals/<int:animal_id>/observations")
@require("release.observe")
@idempotent
@animal_release_bp.arguments(ObservationSchema)
@animal_release_bp.response(201, ObservationSchema)
def create_observation(args, animal_id):
    """A sighting, telemetry fix, animal found dead or recaptured after its release (422 before).

    Anyone recording may give the coordinates; only roles that may see them get them back.
    """
    animal = get_animal_columns(animal_id)
    with _refused():
        observation = monitoring.record_observation(animal, user=current_user, **args)
    return committed(ObservationSchema().dump(observation))
