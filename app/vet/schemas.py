"""JSON shapes of medical records (API.md field names): exams, problems, prescriptions, lab results.

Outcomes (deaths, euthanasia) are shaped by app.releases.schemas.OutcomeSchema.

The schemas check types and shapes; the rules (dates not in the future, a dose from
a weight, required test results) are the services', so the pages and the API refuse
the same things. Decimal columns are written as JSON numbers (Float), not strings.
"""

from marshmallow import Schema, fields, validate
from sqlalchemy import inspect

from app.api import patch_schema
from app.vet.models import Interpretation, ProblemStatus, Route


def _one_of(enum) -> validate.OneOf:
    return validate.OneOf([m.value for m in enum])


_TEXT = {"load_default": "", "validate": validate.Length(max=10000)}


class PersonSchema(Schema):
    id = fields.Integer()
    name = fields.String()


def _loaded_person(attribute: str):
    """A user relation dumped as {id, name} when it was loaded with the record, else null (never a query)."""

    def get(record):
        if attribute in inspect(record).unloaded:
            return None
        person = getattr(record, attribute)
        return PersonSchema().dump(person) if person is not None else None

    return fields.Function(get, dump_only=True, allow_none=True, metadata={"description": "{id, name} of the user."})


# --- exams -------------------------------------------------------------------------------------

class ExamSchema(Schema):
    id = fields.Integer(dump_only=True)
    animal_id = fields.Integer(dump_only=True)
    facility_id = fields.Integer(dump_only=True)
    examined_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                       metadata={"description": "Defaults to now; not before the animal's intake."})
    examined_by_id = fields.Integer(dump_only=True, allow_none=True)
    examined_by = _loaded_person("examined_by")
    weight_g = fields.Float(load_default=None, allow_none=True,
                            metadata={"description": "Grams; also stored as a weighing (weight_id)."})
    bcs = fields.Integer(load_default=None, allow_none=True, strict=True,
                         metadata={"description": "Body condition 1 to 9, with a weight."})
    weight_id = fields.Integer(dump_only=True, allow_none=True)
    temperature_c = fields.Float(load_default=None, allow_none=True, metadata={"description": "°C, 5 to 50."})
    findings = fields.String(**_TEXT)
    assessment = fields.String(**_TEXT)
    plan = fields.String(**_TEXT)
    recorded_at = fields.AwareDateTime(dump_only=True)


# --- problems ----------------------------------------------------------------------------------

class ProblemSchema(Schema):
    id = fields.Integer(dump_only=True)
    animal_id = fields.Integer(dump_only=True)
    facility_id = fields.Integer(dump_only=True)
    diagnosis = fields.String(required=True, validate=validate.Length(max=300))
    onset_on = fields.Date(load_default=None, allow_none=True)
    status = fields.String(load_default=ProblemStatus.ACTIVE.value, validate=_one_of(ProblemStatus),
                           metadata={"description": "active (default) | resolved"})
    resolved_on = fields.Date(load_default=None, allow_none=True,
                              metadata={"description": "When resolved; defaults to today. Ignored while active."})
    notes = fields.String(**_TEXT)
    recorded_by_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)
    version = fields.Integer(dump_only=True)


ProblemPatchSchema = patch_schema(ProblemSchema)


class ProblemQuerySchema(Schema):
    status = fields.String(validate=_one_of(ProblemStatus))


# --- prescriptions -----------------------------------------------------------------------------

class PrescriptionSchema(Schema):
    id = fields.Integer(dump_only=True)
    animal_id = fields.Integer(dump_only=True)
    facility_id = fields.Integer(dump_only=True)
    drug = fields.String(required=True, validate=validate.Length(max=120))
    dose_mg_per_kg = fields.Float(required=True, metadata={"description": "mg per kg of body weight."})
    concentration_mg_per_ml = fields.Float(load_default=None, allow_none=True,
                                           metadata={"description": "For a liquid: gives volume_ml."})
    route = fields.String(required=True, validate=_one_of(Route))
    frequency = fields.String(required=True, validate=validate.Length(max=10),
                              metadata={"description": 'SID | BID | TID | QID | "q<N>h" (q8h, q12h, q48h).'})
    starts_on = fields.Date(load_default=None, allow_none=True,
                            metadata={"description": "The first day; today (the default) or later."})
    days = fields.Integer(load_default=None, allow_none=True, strict=True,
                          metadata={"description": "Length of the course, 1 to 365 days; or give ends_on."})
    ends_on = fields.Date(load_default=None, allow_none=True, metadata={"description": "The last day."})
    doses = fields.Integer(dump_only=True)
    instructions = fields.String(**_TEXT)
    keeper_may_give = fields.Boolean(load_default=False,
                                     metadata={"description": "Whether keepers may record its doses."})
    dose_mg = fields.Float(dump_only=True, metadata={"description": "Per animal (for a lot, per animal of it)."})
    volume_ml = fields.Float(dump_only=True, allow_none=True)
    weight_id = fields.Integer(dump_only=True, allow_none=True)
    weight_g_used = fields.Float(dump_only=True)
    weight_measured_at = fields.AwareDateTime(dump_only=True)
    weight_was_stale = fields.Boolean(dump_only=True)
    schedule_id = fields.Integer(dump_only=True, allow_none=True)
    status = fields.String(dump_only=True, metadata={"description": "active | stopped"})
    prescribed_at = fields.AwareDateTime(dump_only=True)
    prescribed_by_id = fields.Integer(dump_only=True, allow_none=True)
    stopped_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    stopped_by_id = fields.Integer(dump_only=True, allow_none=True)
    stop_reason = fields.String(dump_only=True)
    version = fields.Integer(dump_only=True)
    warnings = fields.List(fields.String(), dump_only=True, dump_default=list,
                           metadata={"description": "What the vet should know when prescribing (a stale weight, "
                                                    "an unmeasurable volume); answered by the POST only."})


class StopSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


# --- lab results -------------------------------------------------------------------------------

_INTERPRETATION = {"metadata": {"description": "negative | positive | inconclusive; null while pending."}}


class LabResultSchema(Schema):
    id = fields.Integer(dump_only=True)
    animal_id = fields.Integer(dump_only=True)
    facility_id = fields.Integer(dump_only=True)
    test = fields.String(required=True, validate=validate.Length(max=120))
    sampled_on = fields.Date(required=True)
    result = fields.String(**_TEXT)
    interpretation = fields.String(load_default=None, allow_none=True, validate=_one_of(Interpretation),
                                   **_INTERPRETATION)
    pending = fields.Boolean(attribute="is_pending", dump_only=True)
    resulted_on = fields.Date(dump_only=True, allow_none=True)
    attachment_id = fields.Integer(dump_only=True, allow_none=True,
                                   metadata={"description": "The lab's report, uploaded on the animal's page."})
    recorded_by_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)
    version = fields.Integer(dump_only=True)


class LabOutcomeSchema(Schema):
    """The result of a pending test: an interpretation is required now."""

    result = fields.String(**_TEXT)
    interpretation = fields.String(required=True, validate=_one_of(Interpretation))


# --- quarantine --------------------------------------------------------------------------------

class QuarantineClearanceSchema(Schema):
    cleared_on = fields.Date(load_default=None, allow_none=True, metadata={"description": "Defaults to today."})
    notes = fields.String(load_default="", validate=validate.Length(max=5000))


class QuarantineSchema(Schema):
    """An animal's quarantine fields after clearance."""

    animal_id = fields.Integer(attribute="id")
    in_quarantine = fields.Boolean()
    quarantine_cleared_on = fields.Date(allow_none=True)
    quarantine_cleared_by_id = fields.Integer(allow_none=True)
    quarantine_notes = fields.String()


# --- euthanasia authorisations -----------------------------------------------------------------

class EuthanasiaAuthorisationSchema(Schema):
    id = fields.Integer(dump_only=True)
    animal_id = fields.Integer(dump_only=True)
    reason = fields.String(required=True, validate=validate.Length(max=10000))
    authorised_by_id = fields.Integer(dump_only=True, allow_none=True)
    authorised_at = fields.AwareDateTime(dump_only=True)
    outcome_id = fields.Integer(dump_only=True, allow_none=True,
                                metadata={"description": "The euthanasia that used it; null until then."})
