"""/api/v1/care-schedules, /api/v1/tasks and the animal's /care-logs and /weights: daily care.

Keepers' records carry a client_id: a retry (a double tap, a resend after the Wi-Fi
dropped) gets the first record back with the same 201 answer and stores nothing new.
"""

from flask_login import current_user
from flask_smorest import abort

from app.animals.queries import get_animal, get_animal_columns
from app.api import PageArgs, api_blueprint, check_version, committed, list_schema, refused_as_422
from app.auth.events import record_access_denied
from app.auth.permissions import require
from app.care import queries, records, services
from app.care.schemas import (
    CareLogSchema,
    CareSchedulePatchSchema,
    CareScheduleQuerySchema,
    CareScheduleSchema,
    TaskCompletionSchema,
    TaskQuerySchema,
    TaskSchema,
    WeightSchema,
    request_now,
)
from app.common.idempotency import idempotent
from app.common.pagination import paginate
from app.extensions import db
from app.reference.queries import get_enclosure

schedules_bp = api_blueprint("care_schedules", __name__, "Recurring care of animals and enclosures.")
tasks_bp = api_blueprint("tasks", __name__, "Care tasks made by the schedules, and their completion.")
records_bp = api_blueprint("care_records", __name__, "Care logs and weighings of an animal.")


# --- schedules -------------------------------------------------------------------------------

@schedules_bp.get("")
@require("care.view")
@schedules_bp.arguments(CareScheduleQuerySchema, location="query")
@schedules_bp.arguments(PageArgs, location="query")
@schedules_bp.response(200, list_schema(CareScheduleSchema))
def list_schedules(filters, args):
    """Schedules at your facilities by kind; active ones unless ?active=false."""
    stmt = queries.schedules_stmt(facility_id=filters.get("facility_id"), animal_id=filters.get("animal_id"),
                                  enclosure_id=filters.get("enclosure_id"), active=filters.get("active"))
    return paginate(stmt, args["page"], args["per_page"]).envelope()


@schedules_bp.post("")
@require("care.plan")
@idempotent
@schedules_bp.arguments(CareScheduleSchema)
@schedules_bp.response(201, CareScheduleSchema)
def create_schedule(args):
    """A schedule for an animal in care or an enclosure; its tasks of today and tomorrow are made at once."""
    animal_id, enclosure_id = args.pop("animal_id"), args.pop("enclosure_id")
    animal = get_animal(animal_id) if animal_id else None
    enclosure = get_enclosure(enclosure_id) if enclosure_id else None
    with refused_as_422():
        schedule = services.create_schedule(animal=animal, enclosure=enclosure, user=current_user, **args)
    db.session.commit()
    return schedule


@schedules_bp.get("/<int:schedule_id>")
@require("care.view")
@schedules_bp.response(200, CareScheduleSchema)
def get_schedule(schedule_id):
    return queries.get_schedule(schedule_id)


@schedules_bp.patch("/<int:schedule_id>")
@require("care.plan")
@schedules_bp.arguments(CareSchedulePatchSchema)
@schedules_bp.response(200, CareScheduleSchema)
def patch_schedule(args, schedule_id):
    """Change a schedule (is_active=false ends it); its open tasks from now on follow at once."""
    schedule = queries.get_schedule(schedule_id)
    check_version(schedule, args.pop("version"), CareScheduleSchema())
    with refused_as_422():
        services.update_schedule(schedule, args)
    db.session.commit()
    return schedule


# --- tasks -----------------------------------------------------------------------------------

@tasks_bp.get("")
@require("care.view")
@tasks_bp.arguments(TaskQuerySchema, location="query")
@tasks_bp.arguments(PageArgs, location="query")
@tasks_bp.response(200, list_schema(TaskSchema))
def list_tasks(filters, args):
    """Tasks at your facilities, soonest first; ?status=overdue is open tasks past their kind's grace."""
    stmt = queries.tasks_stmt(now=request_now(), **filters)
    return paginate(stmt, args["page"], args["per_page"]).envelope()


@tasks_bp.post("/<int:task_id>/complete")
@require("care.log")
@idempotent
@tasks_bp.arguments(TaskCompletionSchema)
@tasks_bp.response(201, CareLogSchema)
@tasks_bp.alt_response(403, description="A dose your role may not record (only vets, or keepers when the "
                                         "prescription lets them).")
@tasks_bp.alt_response(409, description="The task was already done (with another client_id).")
def complete_task(args, task_id):
    """Mark a task done with its care log (returned); a weigh task needs grams, a medicate task given.

    A retry returns the first log.
    """
    task = queries.get_task(task_id)
    with refused_as_422():
        try:
            log, _created = records.complete_task(task, user=current_user, **args)
        except records.TaskAlreadyDoneError as error:
            abort(409, message="This task was already done by someone else.", errors={"json": error.api_fields()})
        except records.NotYoursToDoError as error:
            record_access_denied("care.give_dose")
            abort(403, message=" ".join(str(m) for messages in error.fields.values() for m in messages))
    return committed(CareLogSchema().dump(log))


# --- an animal's care logs and weights -------------------------------------------------------------

@records_bp.get("/animals/<int:animal_id>/care-logs")
@require("care.view")
@records_bp.arguments(PageArgs, location="query")
@records_bp.response(200, list_schema(CareLogSchema))
def list_care_logs(args, animal_id):
    """The animal's care logs, newest first."""
    animal = get_animal_columns(animal_id)
    return paginate(queries.care_logs_stmt(animal_id=animal.id), args["page"], args["per_page"]).envelope()


@records_bp.post("/animals/<int:animal_id>/care-logs")
@require("care.log")
@idempotent
@records_bp.arguments(CareLogSchema)
@records_bp.response(201, CareLogSchema)
def create_care_log(args, animal_id):
    """Record care outside a task; the same client_id twice stores one log."""
    animal = get_animal_columns(animal_id)
    with refused_as_422():
        log, _created = records.log_care(user=current_user, animal=animal, **args)
    return committed(CareLogSchema().dump(log))


@records_bp.get("/animals/<int:animal_id>/weights")
@require("care.view")
@records_bp.arguments(PageArgs, location="query")
@records_bp.response(200, list_schema(WeightSchema))
def list_weights(args, animal_id):
    """The animal's weighings, newest first."""
    animal = get_animal_columns(animal_id)
    return paginate(queries.weights_stmt(animal.id), args["page"], args["per_page"]).envelope()


@records_bp.post("/animals/<int:animal_id>/weights")
@require("care.log")
@idempotent
@records_bp.arguments(WeightSchema)
@records_bp.response(201, WeightSchema)
def create_weight(args, animal_id):
    """A weighing (for a lot, the mean weight of one animal); with a client_id a retry stores nothing new."""
    animal = get_animal_columns(animal_id)
    with refused_as_422():
        weight, _created = records.record_weight(animal, user=current_user, **args)
    db.session.commit()
    return weight
