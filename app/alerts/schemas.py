"""JSON shapes of alerts and job runs (API.md, Alerts and jobs), and their list filters.

An alert's message and kind label are composed when read, in the request's language
(app.alerts.messages), from the subject the query loaded; nothing here reads the database.
"""

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from app.alerts.kinds import KINDS
from app.alerts.messages import message_for
from app.alerts.models import Alert, AlertStatus, JobRunStatus, Severity
from app.scheduler import JOBS


def _one_of(choices) -> validate.OneOf:
    return validate.OneOf(list(choices), error=_l("Must be one of: {choices}."))


def _user_name(user) -> str | None:
    return user.name if user is not None else None


def _kind_label(alert: Alert) -> str:
    kind = KINDS.get(alert.kind)
    return str(kind.label) if kind else alert.kind


def _string(serialize, description: str, **kwargs) -> fields.Function:
    """A computed string (typed for the OpenAPI document)."""
    return fields.Function(serialize, metadata={"type": "string", "description": description}, **kwargs)


class AlertSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": " | ".join(KINDS)})
    kind_label = _string(_kind_label, "The kind's name in the request's language.")
    severity = fields.String(metadata={"description": " | ".join(s.value for s in Severity)})
    facility_id = fields.Integer()
    animal_id = fields.Integer(allow_none=True)
    task_id = fields.Integer(allow_none=True)
    case_id = fields.Integer(allow_none=True)
    message = _string(message_for, "What is wrong, about whom, since when: one sentence in the request's language.")
    reference_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "The time the message refers to: when the task was due, the last weight, the last review."})
    reference_value = fields.Float(allow_none=True, metadata={"description": "weight_loss: the percentage lost."})
    raised_at = fields.AwareDateTime()
    status = fields.String(metadata={"description": " | ".join(s.value for s in AlertStatus)})
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    acknowledged_by_id = fields.Integer(allow_none=True)
    acknowledged_by = _string(lambda alert: _user_name(alert.acknowledged_by), "Who acknowledged it (name).",
                              allow_none=True)
    resolved_at = fields.AwareDateTime(allow_none=True)
    resolved_by_id = fields.Integer(allow_none=True)
    resolved_by = _string(lambda alert: _user_name(alert.resolved_by), "Who resolved it by hand (name).",
                          allow_none=True)
    resolved_automatically = fields.Function(
        lambda alert: alert.status == AlertStatus.RESOLVED and alert.resolved_by_id is None,
        metadata={"type": "boolean", "description": "Resolved by a job when its condition cleared, not by a person."})


class AlertQuerySchema(Schema):
    status = fields.String(validate=_one_of(s.value for s in AlertStatus), metadata={
        "description": "Only alerts in this status; without it, the unresolved ones (open and acknowledged)."})
    kind = fields.String(validate=_one_of(KINDS))
    animal_id = fields.Integer()
    facility_id = fields.Integer()


class AlertActionSchema(Schema):
    """Acknowledging or resolving takes no fields: an empty body or {}."""


class JobRunSchema(Schema):
    id = fields.Integer()
    job = fields.String()
    scheduled_for = fields.AwareDateTime(allow_none=True, metadata={
        "description": "The scheduler's trigger this run claimed; empty for a run by hand."})
    as_of = fields.AwareDateTime(metadata={"description": "The time the job was run as of (its `now`)."})
    started_at = fields.AwareDateTime()
    finished_at = fields.AwareDateTime(allow_none=True)
    status = fields.String(metadata={"description": " | ".join(s.value for s in JobRunStatus)})
    items = fields.Integer(allow_none=True, metadata={"description": "How many things the run touched."})
    error = fields.String(metadata={"description": "The failure's traceback (its end), if it failed."})
    runner = fields.String(metadata={"description": "host:pid of the scheduler, or cli."})


class JobRunQuerySchema(Schema):
    job = fields.String(validate=_one_of(sorted(JOBS)))
    status = fields.String(validate=_one_of(s.value for s in JobRunStatus))
