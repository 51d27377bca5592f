"""JSON shapes of release and outcomes (API.md field names): criteria, readiness, assessments, sites, plans,
outcomes, transfers and observations.

The schemas check types and shapes; the rules (what a checklist may hold, readiness,
evidence holds, counts) are the services', so the pages and the API refuse the same
things. Coordinates are restricted: left out for roles without restricted_fields.view.
Decimal columns are written as JSON numbers (Float), not strings.
"""

from marshmallow import Schema, fields, validate

from app.animals.models import OutcomeKind
from app.animals.schemas import RestrictedFieldsMixin
from app.api import patch_schema
from app.reference.models import TaxonClass
from app.releases.models import (
    AssessmentResult,
    CriterionKind,
    Observation,
    ObservationKind,
    PlanStatus,
    ReleaseSite,
)


def _one_of(enum) -> validate.OneOf:
    return validate.OneOf([m.value for m in enum])


_TEXT = {"load_default": "", "validate": validate.Length(max=10000)}


# --- criteria -------------------------------------------------------------------------------

class CriterionSchema(Schema):
    id = fields.Integer(dump_only=True)
    species_id = fields.Integer(load_default=None, allow_none=True, strict=True,
                                metadata={"description": "The species' own criterion; or give taxon_class."})
    taxon_class = fields.String(load_default=None, allow_none=True, validate=_one_of(TaxonClass),
                                metadata={"description": "A class's criterion (a species' one of the same key "
                                                         "replaces it)."})
    key = fields.String(required=True, validate=validate.Length(min=1, max=40),
                        metadata={"description": "auto: quarantine_cleared | no_active_problems | "
                                                 "no_recent_medication | min_weight | lab_negative | "
                                                 "no_evidence_hold; manual: a short key of your own."})
    kind = fields.String(required=True, validate=_one_of(CriterionKind), metadata={"description": "auto | manual"})
    label = fields.String(load_default="", validate=validate.Length(max=200),
                          metadata={"description": "What the assessor checks (manual criteria)."})
    days = fields.Integer(load_default=None, allow_none=True, strict=True,
                          metadata={"description": "no_recent_medication: days without medication."})
    min_weight_g = fields.Float(load_default=None, allow_none=True, metadata={"description": "min_weight: grams."})
    min_bcs = fields.Integer(load_default=None, allow_none=True, strict=True,
                             metadata={"description": "min_weight: least body condition, 1 to 9."})
    tests = fields.List(fields.String(validate=validate.Length(max=120)), load_default=list,
                        metadata={"description": "lab_negative: the tests that must be negative."})
    expires_days = fields.Integer(load_default=None, allow_none=True, strict=True,
                                  metadata={"description": "How long a manual assessment stays valid."})
    is_active = fields.Boolean(load_default=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)
    version = fields.Integer(dump_only=True)


CriterionPatchSchema = patch_schema(CriterionSchema)


class CriterionQuerySchema(Schema):
    species_id = fields.Integer()
    taxon_class = fields.String(validate=_one_of(TaxonClass))
    kind = fields.String(validate=_one_of(CriterionKind))
    active = fields.Boolean(metadata={"description": "Active ones only (true) or inactive ones (false); "
                                                     "both when absent."})


# --- readiness and assessments -------------------------------------------------------------

class UnmetSchema(Schema):
    key = fields.String()
    reason = fields.String()


class ChecklistItemSchema(Schema):
    key = fields.String()
    kind = fields.String()
    label = fields.String()
    met = fields.Boolean()


class ReadinessSchema(Schema):
    animal_id = fields.Integer()
    ready = fields.Boolean()
    unmet = fields.List(fields.Nested(UnmetSchema))
    releasability = fields.String()
    criteria = fields.List(fields.Nested(ChecklistItemSchema),
                           metadata={"description": "The animal's checklist: its species' criteria and its class's "
                                                    "other ones."})


class AssessmentSchema(Schema):
    id = fields.Integer(dump_only=True)
    animal_id = fields.Integer(dump_only=True)
    facility_id = fields.Integer(dump_only=True)
    criterion = fields.String(required=True, attribute="criterion_key", validate=validate.Length(min=1, max=40),
                              metadata={"description": "The key of one of the animal's manual criteria."})
    result = fields.String(required=True, validate=_one_of(AssessmentResult), metadata={"description": "pass | fail"})
    assessed_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                       metadata={"description": "Defaults to now."})
    expires_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    assessed_by_id = fields.Integer(dump_only=True, allow_none=True)
    notes = fields.String(**_TEXT)
    recorded_at = fields.AwareDateTime(dump_only=True)


# --- sites ----------------------------------------------------------------------------------

class SiteSchema(RestrictedFieldsMixin, Schema):
    RESTRICTED = ReleaseSite.RESTRICTED

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    protected_area = fields.String(load_default="", validate=validate.Length(max=200))
    province = fields.String(load_default="", validate=validate.Length(max=100))
    latitude = fields.Float(load_default=None, allow_none=True, metadata={"description": "Restricted."})
    longitude = fields.Float(load_default=None, allow_none=True, metadata={"description": "Restricted."})
    habitat = fields.String(**_TEXT)
    suitable_taxa = fields.List(fields.String(validate=_one_of(TaxonClass)), load_default=list)
    notes = fields.String(**_TEXT)
    is_active = fields.Boolean(load_default=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)
    version = fields.Integer(dump_only=True)


SitePatchSchema = patch_schema(SiteSchema)


class SiteQuerySchema(Schema):
    active = fields.Boolean()


# --- plans ----------------------------------------------------------------------------------

class PlanAnimalInSchema(Schema):
    animal_id = fields.Integer(required=True, strict=True)
    quantity = fields.Integer(allow_none=True, strict=True,
                              metadata={"description": "How many of the record go (a lot); 1 for an individual."})
    count = fields.Integer(allow_none=True, strict=True, metadata={"description": "Same as quantity."})
    override_reason = fields.String(load_default="", validate=validate.Length(max=5000),
                                    metadata={"description": "Why it is planned with unmet readiness criteria."})


_ANIMALS = {"required": True, "validate": validate.Length(min=1, max=500)}


class PlanCreateSchema(Schema):
    site_id = fields.Integer(required=True, strict=True)
    planned_on = fields.Date(required=True, metadata={"description": "The facility's local day; not in the past."})
    animals = fields.List(fields.Nested(PlanAnimalInSchema), **_ANIMALS)
    notes = fields.String(**_TEXT)


class PlanAnimalsPatchSchema(Schema):
    """A draft's animals replaced (the vet's sign-off is undone), with the version read."""

    version = fields.Integer(required=True, strict=True)
    animals = fields.List(fields.Nested(PlanAnimalInSchema), **_ANIMALS)


class PlannedAnimalSchema(Schema):
    id = fields.Integer()
    animal_id = fields.Integer()
    accession_number = fields.String(attribute="animal.accession_number")
    name = fields.String(attribute="animal.name")
    species_id = fields.Integer(attribute="animal.species_id")
    quantity = fields.Integer(attribute="count", dump_only=True, metadata={"description": "How many of the record go."})
    count = fields.Integer(dump_only=True, metadata={"description": "Same as quantity."})
    override_reason = fields.String()
    outcome_id = fields.Integer(allow_none=True, metadata={"description": "The released outcome, once completed."})


class SurvivalSchema(Schema):
    released = fields.Integer()
    seen_alive = fields.Integer()
    found_dead = fields.Integer()
    recaptured = fields.Integer()
    unknown = fields.Integer()
    last_observed_at = fields.AwareDateTime(allow_none=True)


class PlanSchema(Schema):
    id = fields.Integer()
    facility_id = fields.Integer()
    site_id = fields.Integer()
    site_name = fields.String(attribute="site.name")
    planned_on = fields.Date()
    status = fields.String(metadata={"description": "draft | approved | completed | cancelled"})
    notes = fields.String()
    animals = fields.List(fields.Nested(PlannedAnimalSchema))
    records = fields.Function(lambda plan: len(plan.animals), metadata={"description": "Animal records planned."})
    animal_count = fields.Function(lambda plan: sum(pa.count for pa in plan.animals),
                                   metadata={"description": "Animals planned (a lot counts its quantity)."})
    created_by_id = fields.Integer(allow_none=True)
    vet_signed_off = fields.Function(lambda plan: plan.vet_signoff_at is not None)
    vet_signoff_by_id = fields.Integer(allow_none=True)
    vet_signoff_at = fields.AwareDateTime(allow_none=True)
    vet_signoff_notes = fields.String()
    approved_by_id = fields.Integer(allow_none=True)
    approved_at = fields.AwareDateTime(allow_none=True)
    permit_reference = fields.String()
    approval_override_reason = fields.String()
    completed_on = fields.Date(allow_none=True)
    completed_by_id = fields.Integer(allow_none=True)
    completion_override_reason = fields.String()
    cancelled_at = fields.AwareDateTime(allow_none=True)
    cancelled_by_id = fields.Integer(allow_none=True)
    cancel_reason = fields.String()
    survival = fields.Function(
        lambda plan: SurvivalSchema().dump(s) if (s := getattr(plan, "survival", None)) is not None else None,
        allow_none=True, metadata={"description": "Completed plans: what monitoring says of the released animals."})
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    version = fields.Integer()


class PlanQuerySchema(Schema):
    status = fields.String(validate=_one_of(PlanStatus))
    facility_id = fields.Integer()
    site_id = fields.Integer()


class SignoffSchema(Schema):
    notes = fields.String(load_default="", validate=validate.Length(max=5000))


class ApproveSchema(Schema):
    permit_reference = fields.String(required=True, validate=validate.Length(max=200),
                                     metadata={"description": "The authority's permit for the release."})
    override_reason = fields.String(load_default="", validate=validate.Length(max=5000),
                                    metadata={"description": "Required when an animal has unmet readiness criteria; "
                                                             "nothing overrides an evidence hold."})


class CompleteSchema(Schema):
    completed_on = fields.Date(load_default=None, allow_none=True,
                               metadata={"description": "The release day (local); defaults to today."})
    override_reason = fields.String(load_default="", validate=validate.Length(max=5000))


class CancelSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=5000))


# --- outcomes -------------------------------------------------------------------------------

class OutcomeSchema(Schema):
    id = fields.Integer(dump_only=True)
    animal_id = fields.Integer(dump_only=True)
    facility_id = fields.Integer(dump_only=True)
    kind = fields.String(required=True, validate=_one_of(OutcomeKind),
                         metadata={"description": "died | euthanized (vets); transferred (out of the network) | "
                                                  "escaped (coordinators); released comes from a completed release "
                                                  "plan."})
    count = fields.Integer(load_default=None, allow_none=True, strict=True,
                           metadata={"description": "How many leave: 1 for an individual (default), 1..quantity for "
                                                    "a lot."})
    occurred_at = fields.AwareDateTime(load_default=None, allow_none=True)
    cause = fields.String(**_TEXT)
    necropsy_findings = fields.String(**_TEXT)
    reason = fields.String(load_default="", validate=validate.Length(max=10000),
                           metadata={"description": "Required for a euthanasia."})
    institution = fields.String(load_default="", validate=validate.Length(max=200),
                                metadata={"description": "transferred: the receiving institution (required)."})
    country = fields.String(load_default="", validate=validate.Length(max=100),
                            metadata={"description": "transferred: its country (required)."})
    permit_numbers = fields.String(load_default="", validate=validate.Length(max=300),
                                   metadata={"description": "transferred: CITES and national permits (required)."})
    notes = fields.String(**_TEXT)
    authorised_by_id = fields.Integer(dump_only=True, allow_none=True)
    hold_override_reason = fields.String(dump_only=True)
    hold_override_by_id = fields.Integer(dump_only=True, allow_none=True)
    recorded_at = fields.AwareDateTime(dump_only=True)
    recorded_by_id = fields.Integer(dump_only=True, allow_none=True)


# --- transfers within the network -----------------------------------------------------------

class TransferSchema(Schema):
    id = fields.Integer(dump_only=True)
    animal_id = fields.Integer(dump_only=True, metadata={"description": "The record moved: a new one when part of "
                                                                        "a lot was split off."})
    source_animal_id = fields.Integer(dump_only=True, metadata={"description": "The record in the request."})
    quantity = fields.Integer(dump_only=True, metadata={"description": "Animals moved."})
    from_facility_id = fields.Integer(dump_only=True)
    to_facility_id = fields.Integer(required=True, strict=True)
    count = fields.Integer(load_default=None, allow_none=True, strict=True, load_only=True,
                           metadata={"description": "Part of a lot (split off first); the whole record by default."})
    reason = fields.String(**_TEXT)
    handed_to = fields.String(load_default="", validate=validate.Length(max=200), load_only=True,
                              metadata={"description": "Who received custody; the receiving facility by default."})
    transferred_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                          metadata={"description": "Defaults to now."})
    handover_id = fields.Integer(dump_only=True, allow_none=True)
    recorded_by_id = fields.Integer(dump_only=True, allow_none=True)
    recorded_at = fields.AwareDateTime(dump_only=True)


# --- observations ---------------------------------------------------------------------------

class ObservationSchema(RestrictedFieldsMixin, Schema):
    RESTRICTED = Observation.RESTRICTED

    id = fields.Integer(dump_only=True)
    animal_id = fields.Integer(dump_only=True)
    plan_id = fields.Integer(dump_only=True, allow_none=True)
    kind = fields.String(required=True, validate=_one_of(ObservationKind),
                         metadata={"description": "sighting | telemetry | found_dead | recaptured"})
    observed_at = fields.AwareDateTime(required=True)
    count = fields.Integer(load_default=1, allow_none=True, strict=True,
                           metadata={"description": "Animals of a released lot seen together (default 1)."})
    latitude = fields.Float(load_default=None, allow_none=True, metadata={"description": "Restricted."})
    longitude = fields.Float(load_default=None, allow_none=True, metadata={"description": "Restricted."})
    notes = fields.String(**_TEXT)
    recorded_by_id = fields.Integer(dump_only=True, allow_none=True)
    recorded_at = fields.AwareDateTime(dump_only=True)
