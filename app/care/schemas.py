"""JSON shapes of daily care (API.md field names): schedules, tasks, care logs and weights.

The schemas check types and shapes only; the rules (times of day, back-dating, amounts
eaten, weights) are the services', so the pages and the API refuse the same things.
"""

from datetime import datetime

from flask import g
from marshmallow import Schema, fields, validate

from app.api import patch_schema
from app.care.models import CareKind, DoseResult, Eaten
from app.care.queries import task_state
from app.common.db import utcnow


def _one_of(enum) -> validate.OneOf:
    return validate.OneOf([m.value for m in enum])


def request_now() -> datetime:
    """One "now" per request, so a list's filter (overdue) and its items' state agree."""
    if "care_now" not in g:
        g.care_now = utcnow()
    return g.care_now


_CLIENT_ID = {"metadata": {"description": "Made by the client (8 to 64 characters); a retry with the same "
                                          "client_id returns the first record and stores nothing new."}}
_TEXT = {"load_default": "", "validate": validate.Length(max=5000)}


# --- schedules -------------------------------------------------------------------------------

class DietItemSchema(Schema):
    food = fields.String(required=True, validate=validate.Length(min=1, max=200))
    grams = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, min_inclusive=False))
    preparation = fields.String(load_default="", validate=validate.Length(max=300))


class CareScheduleSchema(Schema):
    id = fields.Integer(dump_only=True)
    facility_id = fields.Integer(dump_only=True)
    animal_id = fields.Integer(load_default=None, allow_none=True, strict=True,
                               metadata={"description": "Give animal_id or enclosure_id, not both."})
    enclosure_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    template_id = fields.Integer(dump_only=True, allow_none=True)
    kind = fields.String(required=True, validate=_one_of(CareKind))
    times = fields.List(fields.String(validate=validate.Length(max=20)), load_default=list,
                        validate=validate.Length(max=24),
                        metadata={"description": 'Local times of day at the facility, "HH:MM".'})
    every_days = fields.Integer(load_default=None, allow_none=True, strict=True,
                                metadata={"description": "Every N days from starts_on (1 to 365)."})
    instructions = fields.String(load_default="", validate=validate.Length(max=5000))
    diet_items = fields.List(fields.Nested(DietItemSchema), load_default=list, validate=validate.Length(max=50))
    starts_on = fields.Date(load_default=None, allow_none=True,
                            metadata={"description": "Defaults to the facility's today."})
    ends_on = fields.Date(load_default=None, allow_none=True)
    is_active = fields.Boolean(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    version = fields.Integer(dump_only=True)


class _CareScheduleEditSchema(CareScheduleSchema):
    """An edit may also end (is_active=false) or resume a schedule."""

    is_active = fields.Boolean()


CareSchedulePatchSchema = patch_schema(_CareScheduleEditSchema, exclude=("animal_id", "enclosure_id"))


class CareScheduleQuerySchema(Schema):
    facility_id = fields.Integer()
    animal_id = fields.Integer()
    enclosure_id = fields.Integer()
    active = fields.Boolean(load_default=True, allow_none=True,
                            metadata={"description": "true (default) or false."})


# --- tasks -----------------------------------------------------------------------------------

class TaskSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    animal_id = fields.Integer(allow_none=True)
    enclosure_id = fields.Integer(allow_none=True)
    schedule_id = fields.Integer(allow_none=True)
    facility_id = fields.Integer()
    due_at = fields.AwareDateTime()
    status = fields.String(metadata={"description": "open | done | cancelled"})
    state = fields.Function(lambda task: task_state(task, request_now()),
                            metadata={"description": "done | cancelled | overdue | due | later"})
    done_at = fields.AwareDateTime(allow_none=True)
    done_by_id = fields.Integer(allow_none=True)


class TaskQuerySchema(Schema):
    facility_id = fields.Integer()
    enclosure_id = fields.Integer()
    animal_id = fields.Integer()
    kind = fields.String(validate=_one_of(CareKind))
    status = fields.String(validate=validate.OneOf(["open", "done", "overdue", "cancelled"]))
    due_before = fields.AwareDateTime()


# --- care logs and weights -----------------------------------------------------------------------

class CareLogSchema(Schema):
    """A care log as stored (dump) and as posted for an animal (load)."""

    id = fields.Integer(dump_only=True)
    client_id = fields.String(required=True, validate=validate.Length(max=64), **_CLIENT_ID)
    facility_id = fields.Integer(dump_only=True)
    task_id = fields.Integer(dump_only=True, allow_none=True)
    kind = fields.String(required=True, validate=_one_of(CareKind))
    animal_id = fields.Integer(dump_only=True, allow_none=True)
    enclosure_id = fields.Integer(dump_only=True, allow_none=True)
    done_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                   metadata={"description": "When it was done (the tablet's time); defaults to "
                                                            "now. Up to 48 hours back; a late entry after 1 hour."})
    recorded_at = fields.AwareDateTime(dump_only=True)
    recorded_by_id = fields.Integer(dump_only=True, allow_none=True)
    late_entry = fields.Boolean(dump_only=True)
    eaten = fields.String(load_default=None, allow_none=True, validate=_one_of(Eaten),
                          metadata={"description": "Feeds only: all | most | half | little | none"})
    appetite = fields.String(load_default="", validate=validate.Length(max=100))
    stool = fields.String(load_default="", validate=validate.Length(max=200))
    behaviour = fields.String(**_TEXT)
    notes = fields.String(**_TEXT)
    head_count = fields.Integer(load_default=None, allow_none=True, strict=True,
                                metadata={"description": "For a lot: how many animals were seen."})
    given = fields.String(dump_only=True, allow_none=True,
                          metadata={"description": "A dose (medicate task): given | refused | vomited | missed."})
    photo_id = fields.Integer(dump_only=True, allow_none=True)


class TaskCompletionSchema(Schema):
    """POST /tasks/<id>/complete: the care log's details; a weigh task also takes grams, a medicate task given."""

    client_id = fields.String(required=True, validate=validate.Length(max=64), **_CLIENT_ID)
    done_at = fields.AwareDateTime(load_default=None, allow_none=True)
    eaten = fields.String(load_default=None, allow_none=True, validate=_one_of(Eaten))
    appetite = fields.String(load_default="", validate=validate.Length(max=100))
    stool = fields.String(load_default="", validate=validate.Length(max=200))
    behaviour = fields.String(**_TEXT)
    notes = fields.String(**_TEXT)
    head_count = fields.Integer(load_default=None, allow_none=True, strict=True)
    grams = fields.Float(load_default=None, allow_none=True, metadata={"description": "Weigh tasks: grams."})
    bcs = fields.Integer(load_default=None, allow_none=True, strict=True,
                         metadata={"description": "Weigh tasks: body condition 1 to 9."})
    given = fields.String(load_default=None, allow_none=True, validate=_one_of(DoseResult),
                          metadata={"description": "Medicate tasks (required): what became of the dose, "
                                                   "given | refused | vomited | missed."})


class WeightSchema(Schema):
    id = fields.Integer(dump_only=True)
    client_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64), **_CLIENT_ID)
    animal_id = fields.Integer(dump_only=True)
    grams = fields.Float(required=True, metadata={"description": "Grams, to a tenth."})
    bcs = fields.Integer(load_default=None, allow_none=True, strict=True,
                         metadata={"description": "Body condition 1 to 9."})
    measured_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                       metadata={"description": "Defaults to now; up to 48 hours back."})
    late_entry = fields.Boolean(dump_only=True)
    care_log_id = fields.Integer(dump_only=True, allow_none=True)
    recorded_at = fields.AwareDateTime(dump_only=True)
    recorded_by_id = fields.Integer(dump_only=True, allow_none=True)
