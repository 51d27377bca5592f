"""Alerts and job runs in the JSON API (API.md, Alerts and jobs).

Staff read the alerts their role is for at their facilities ("alert.view") and acknowledge
or resolve them ("alert.handle"); an alert they may not see is 404, and a resolved one
refuses either change with 409. Admins read the record of job runs ("job_run.view").
"""

from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import abort

from app.alerts import queries, services
from app.alerts.models import Alert
from app.alerts.schemas import (
    AlertActionSchema,
    AlertQuerySchema,
    AlertSchema,
    JobRunQuerySchema,
    JobRunSchema,
)
from app.api import PageArgs, api_blueprint, committed, list_schema
from app.auth.permissions import require
from app.common.idempotency import idempotent
from app.common.pagination import paginate
from app.extensions import db

alerts_bp = api_blueprint("alerts", __name__, "Alerts raised by the scheduled jobs: read, acknowledge, resolve.")
job_runs_bp = api_blueprint("job_runs", __name__, "The record of the scheduled jobs' runs.")

_RESOLVED_409 = "The alert is already resolved (error.current holds it)."


@alerts_bp.get("")
@require("alert.view")
@alerts_bp.arguments(AlertQuerySchema, location="query")
@alerts_bp.arguments(PageArgs, location="query")
@alerts_bp.response(200, list_schema(AlertSchema))
def list_alerts(filters, args):
    """Alerts of the kinds your role is for, at your facilities, worst and newest first.

    ?status=open|acknowledged|resolved lists only those; without it, the unresolved ones
    (open and acknowledged). ?kind=&animal_id=&facility_id= narrow the list. Messages and
    kind labels are in the request's language (Accept-Language).
    """
    stmt = queries.alerts_stmt(status=filters.get("status", queries.UNRESOLVED), kind=filters.get("kind"),
                               animal_id=filters.get("animal_id"), facility_id=filters.get("facility_id"))
    return paginate(stmt, args["page"], args["per_page"]).envelope()


@alerts_bp.get("/<int:alert_id>")
@require("alert.view")
@alerts_bp.response(200, AlertSchema)
def get_alert(alert_id):
    """One alert, whatever its status (404 when it is not for your role or not at your facilities)."""
    return queries.get_alert(alert_id)


def _handled(alert_id: int, action):
    """Apply a person's action to a visible alert and answer with it as stored; a resolved one is 409."""
    alert = queries.get_alert(alert_id)
    try:
        action(alert, user=current_user)
    except services.AlertError as error:
        message = " ".join(str(m) for messages in error.fields.values() for m in messages)
        abort(409, message=message or _("This alert is already resolved."), errors={"json": error.api_fields()},
              current=AlertSchema().dump(alert))
    # Read back with who acknowledged or resolved it: the service set their ids, not the loaded users.
    stmt = (queries.alerts_stmt(status=None).where(Alert.id == alert.id)
            .execution_options(populate_existing=True))
    return committed(AlertSchema().dump(db.session.execute(stmt).unique().scalar_one()), 200)


@alerts_bp.post("/<int:alert_id>/acknowledge")
@require("alert.handle")
@idempotent
@alerts_bp.arguments(AlertActionSchema, required=False)
@alerts_bp.response(200, AlertSchema)
@alerts_bp.alt_response(409, description=_RESOLVED_409)
def acknowledge_alert(_args, alert_id):
    """Seen and being dealt with: it stops counting as new but stays until resolved.

    Acknowledging an acknowledged alert changes nothing. No body is needed (an empty one or {}).
    A job still resolves it when its condition clears.
    """
    return _handled(alert_id, services.acknowledge_alert)


@alerts_bp.post("/<int:alert_id>/resolve")
@require("alert.handle")
@idempotent
@alerts_bp.arguments(AlertActionSchema, required=False)
@alerts_bp.response(200, AlertSchema)
@alerts_bp.alt_response(409, description=_RESOLVED_409)
def resolve_alert(_args, alert_id):
    """Dealt with, by hand: the same episode (dedup key) is not raised again. No body is needed."""
    return _handled(alert_id, services.resolve_alert)


@job_runs_bp.get("")
@require("job_run.view")
@job_runs_bp.arguments(JobRunQuerySchema, location="query")
@job_runs_bp.arguments(PageArgs, location="query")
@job_runs_bp.response(200, list_schema(JobRunSchema))
def list_job_runs(filters, args):
    """Runs of the scheduled jobs, latest started first; ?job=&status=running|succeeded|failed."""
    stmt = queries.job_runs_stmt(job=filters.get("job"), status=filters.get("status"))
    return paginate(stmt, args["page"], args["per_page"]).envelope()
