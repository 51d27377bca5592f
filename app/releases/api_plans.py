"""Release plans in the JSON API: create, read, change a draft, sign off, approve, complete, cancel.

An evidence hold refuses with 409 naming the case (error.case); every other refusal is
422 with field messages and stores nothing. Plans at another facility are 404.
"""



from flask_login import current_user
from flask_smorest import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.animals.models import Animal
from app.api import PageArgs, api_blueprint, check_version, committed, list_schema
from app.auth.permissions import facility_clause, require
from app.common.db import utcnow
from app.common.idempotency import idempotent
from app.common.pagination import paginate
from app.extensions import db
from app.releases import monitoring, plans
from app.releases.api import _HOLD_409, _invalid, _refused
from app.releases.models import (
    PlannedAnimal,
    PlanStatus,
    ReleasePlan,
    ReleaseSite,
)
from app.releases.schemas import (
    ApproveSchema,
    CancelSchema,
    CompleteSchema,
    PlanAnimalsPatchSchema,
    PlanCreateSchema,
    PlanQuerySchema,
    PlanSchema,
    SignoffSchema,
)

plans_bp = api_blueprint("release_plans", __name__, "Release plans.")


# --- plans ----------------------------------------------------------------------------------

def _plans_stmt():
    """Plans at the user's facilities with their site and animals (two more SELECTs whatever the number)."""
    return (select(ReleasePlan)
            .options(joinedload(ReleasePlan.site),
                     selectinload(ReleasePlan.animals).joinedload(PlannedAnimal.animal))
            .where(facility_clause(ReleasePlan.facility_id)))


def _with_survival(plans_: list[ReleasePlan]) -> list[ReleasePlan]:
    """Completed plans get their survival summary (two queries for any number of plans)."""
    completed = [p for p in plans_ if p.status == PlanStatus.COMPLETED]
    summaries = monitoring.survival_summaries(completed)
    for plan in plans_:
        plan.survival = summaries.get(plan.id)
    return plans_


def _get_plan(plan_id: int, *, reread: bool = False) -> ReleasePlan:
    """A plan the user may see with its site and animals, or 404; reread after a change to dump it."""
    stmt = _plans_stmt().where(ReleasePlan.id == plan_id)
    if reread:
        db.session.flush()
        stmt = stmt.execution_options(populate_existing=True)
    plan = db.session.execute(stmt).unique().scalar_one_or_none()
    if plan is None:
        abort(404)
    return plan


def _plan_body(plan_id: int) -> dict:
    return PlanSchema().dump(_with_survival([_get_plan(plan_id, reread=True)])[0])


def _plan_rows(animals: list[dict]) -> list[dict]:
    """The rows asked for, in the services' shape; animals the user may not see do not exist."""
    ids = [row["animal_id"] for row in animals]
    visible = set(db.session.execute(
        select(Animal.id).where(Animal.id.in_(ids), facility_clause(Animal.facility_id))).scalars())
    missing = [f"Animal {i} does not exist." for i in ids if i not in visible]
    if missing:
        abort(422, message="The request has invalid fields.", errors={"json": {"animals": missing}})
    rows = []
    for row in animals:
        quantity, count = row.get("quantity"), row.get("count")
        if quantity is not None and count is not None and quantity != count:
            _invalid("animals", f"Animal {row['animal_id']}: give quantity or count, not two numbers.")
        out = {"animal_id": row["animal_id"], "override_reason": row.get("override_reason", "")}
        if (count if count is not None else quantity) is not None:
            out["count"] = count if count is not None else quantity
        rows.append(out)
    return rows


@plans_bp.get("")
@require("release.view")
@plans_bp.arguments(PlanQuerySchema, location="query")
@plans_bp.arguments(PageArgs, location="query")
@plans_bp.response(200, list_schema(PlanSchema))
def list_plans(filters, args):
    """Plans at your facilities, latest planned day first; ?status=&facility_id=&site_id=."""
    stmt = _plans_stmt().order_by(ReleasePlan.planned_on.desc(), ReleasePlan.id.desc())
    for column, name in ((ReleasePlan.status, "status"), (ReleasePlan.facility_id, "facility_id"),
                         (ReleasePlan.site_id, "site_id")):
        if name in filters:
            stmt = stmt.where(column == filters[name])
    page = paginate(stmt, args["page"], args["per_page"])
    _with_survival(page.items)
    return page.envelope()


@plans_bp.post("")
@require("release.plan")
@idempotent
@plans_bp.arguments(PlanCreateSchema)
@plans_bp.response(201, PlanSchema)
@plans_bp.alt_response(409, description=_HOLD_409)
def create_plan(args):
    """A draft plan of animals of one facility; an animal not ready needs its override_reason."""
    site = db.session.get(ReleaseSite, args["site_id"])
    if site is None:
        _invalid("site_id", "No such site.")
    rows = _plan_rows(args["animals"])
    with _refused([row["animal_id"] for row in rows]):
        plan = plans.create_plan(site=site, planned_on=args["planned_on"], animals=rows, user=current_user,
                                 notes=args["notes"])
    return committed(_plan_body(plan.id))


@plans_bp.get("/<int:plan_id>")
@require("release.view")
@plans_bp.response(200, PlanSchema)
def get_plan(plan_id):
    """A plan with its animals, sign-off, approval, completion and (completed) survival summary."""
    return _with_survival([_get_plan(plan_id)])[0]


@plans_bp.patch("/<int:plan_id>")
@require("release.plan")
@plans_bp.arguments(PlanAnimalsPatchSchema)
@plans_bp.response(200, PlanSchema)
@plans_bp.alt_response(409, description="The plan changed since it was read (error.current), or " + _HOLD_409)
def patch_plan(args, plan_id):
    """Replace a draft's animals with the version read; the vet's sign-off is undone."""
    plan = _get_plan(plan_id)
    check_version(plan, args["version"], PlanSchema())
    rows = _plan_rows(args["animals"])
    with _refused([row["animal_id"] for row in rows]):
        plans.update_plan_animals(plan, rows, user=current_user)
    if plan.version == args["version"]:
        plan.updated_at = utcnow()  # only its animals changed: the plan's version moves with them all the same
    return committed(_plan_body(plan.id), 200)


def _plan_action(plan_id: int, action, **kwargs):
    plan = _get_plan(plan_id)
    with _refused([pa.animal_id for pa in plan.animals]):
        action(plan, user=current_user, **kwargs)
    return committed(_plan_body(plan.id), 200)


@plans_bp.post("/<int:plan_id>/vet-signoff")
@require("release.signoff")
@idempotent
@plans_bp.arguments(SignoffSchema)
@plans_bp.response(200, PlanSchema)
def signoff_plan(args, plan_id):
    """A vet signs the draft off as fit to go (needed before approval)."""
    return _plan_action(plan_id, plans.vet_signoff, notes=args["notes"])


@plans_bp.post("/<int:plan_id>/approve")
@require("release.plan")
@idempotent
@plans_bp.arguments(ApproveSchema)
@plans_bp.response(200, PlanSchema)
@plans_bp.alt_response(409, description=_HOLD_409)
def approve_plan(args, plan_id):
    """Approve a signed-off draft with the permit; unmet readiness criteria need override_reason."""
    return _plan_action(plan_id, plans.approve_plan, permit_reference=args["permit_reference"],
                        override_reason=args["override_reason"])


@plans_bp.post("/<int:plan_id>/complete")
@require("release.plan")
@idempotent
@plans_bp.arguments(CompleteSchema)
@plans_bp.response(200, PlanSchema)
@plans_bp.alt_response(409, description=_HOLD_409)
def complete_plan(args, plan_id):
    """The release happened: a released outcome for every planned animal, or none at all."""
    return _plan_action(plan_id, plans.complete_plan, completed_on=args["completed_on"],
                        override_reason=args["override_reason"])


@plans_bp.post("/<int:plan_id>/cancel")
@require("release.plan")
@idempotent
@plans_bp.arguments(CancelSchema)
@plans_bp.response(200, PlanSchema)
def cancel_plan(args, plan_id):
    """Cancel a draft or approved plan (its animals are free for other plans)."""
    return _plan_action(plan_id, plans.cancel_plan, reason=args["reason"])


