"""JSON shapes of cases and animals (API.md field names); restricted fields only for those allowed."""

from marshmallow import Schema, fields, post_dump, validate

from app.animals.models import (
    LEFT_CARE,
    AgeClass,
    AnimalStatus,
    Case,
    CaseSource,
    IdentifierKind,
    IntakeCondition,
    Releasability,
    Sex,
)
from app.api import patch_schema
from app.auth.permissions import can


def _one_of(enum) -> validate.OneOf:
    return validate.OneOf([m.value for m in enum])


class RestrictedFieldsMixin:
    """Leaves restricted fields out of the output for roles that may not see them."""

    RESTRICTED: tuple[str, ...] = ()

    @post_dump
    def _hide_restricted(self, data, **_kwargs):
        if not can("restricted_fields.view"):
            for name in self.RESTRICTED:
                data.pop(name, None)
        return data


class CaseSchema(RestrictedFieldsMixin, Schema):
    RESTRICTED = Case.RESTRICTED

    id = fields.Integer(dump_only=True)
    reference = fields.String(dump_only=True)
    facility_id = fields.Integer(required=True, strict=True)
    occurred_at = fields.AwareDateTime(required=True)
    source = fields.String(required=True, validate=_one_of(CaseSource))
    agency = fields.String(load_default="", validate=validate.Length(max=200))
    officer = fields.String(load_default="", validate=validate.Length(max=200))
    legal_reference = fields.String(load_default="", validate=validate.Length(max=200))
    province = fields.String(load_default="", validate=validate.Length(max=100))
    district = fields.String(load_default="", validate=validate.Length(max=100))
    place = fields.String(load_default="", validate=validate.Length(max=300))
    latitude = fields.Float(allow_none=True, load_default=None, validate=validate.Range(-90, 90))
    longitude = fields.Float(allow_none=True, load_default=None, validate=validate.Range(-180, 180))
    suspect_details = fields.String(load_default="", validate=validate.Length(max=5000))
    reporter = fields.String(load_default="", validate=validate.Length(max=300))
    notes = fields.String(load_default="", validate=validate.Length(max=10000))
    evidence_hold = fields.Boolean(dump_only=True)
    evidence_hold_since = fields.AwareDateTime(dump_only=True, allow_none=True)
    version = fields.Integer(dump_only=True)


CasePatchSchema = patch_schema(CaseSchema, exclude=("facility_id",))


class CaseQuerySchema(Schema):
    q = fields.String(validate=validate.Length(max=100))
    facility_id = fields.Integer()
    evidence_hold = fields.Boolean()


class IdentifierSchema(Schema):
    kind = fields.String(required=True, validate=_one_of(IdentifierKind))
    value = fields.String(required=True, validate=validate.Length(min=1, max=100))


class IntakeRowSchema(Schema):
    species_id = fields.Integer(required=True, strict=True)
    quantity = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=100_000))
    sex = fields.String(load_default=None, allow_none=True, validate=_one_of(Sex))
    age_class = fields.String(load_default=None, allow_none=True, validate=_one_of(AgeClass))
    intake_condition = fields.String(load_default=None, allow_none=True, validate=_one_of(IntakeCondition))
    intake_weight_g = fields.Integer(load_default=None, allow_none=True, strict=True,
                                     validate=validate.Range(min=1, max=1_000_000))
    enclosure_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    name = fields.String(load_default="", validate=validate.Length(max=100))
    identifiers = fields.List(fields.Nested(IdentifierSchema), load_default=list)


class IntakeSchema(Schema):
    animals = fields.List(fields.Nested(IntakeRowSchema), required=True, validate=validate.Length(min=1, max=500))


class AnimalSchema(Schema):
    id = fields.Integer(dump_only=True)
    accession_number = fields.String(dump_only=True)
    case_id = fields.Integer(dump_only=True)
    case_reference = fields.String(dump_only=True, attribute="case.reference")
    species_id = fields.Integer(dump_only=True)
    parent_id = fields.Integer(dump_only=True, allow_none=True)
    name = fields.String(validate=validate.Length(max=100))
    sex = fields.String(validate=_one_of(Sex))
    age_class = fields.String(validate=_one_of(AgeClass))
    intake_condition = fields.String(validate=_one_of(IntakeCondition))
    intake_weight_g = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=1_000_000))
    status = fields.String(dump_only=True, validate=_one_of(AnimalStatus))
    intake_quantity = fields.Integer(dump_only=True)
    quantity = fields.Integer(dump_only=True)
    facility_id = fields.Integer(dump_only=True)
    enclosure_id = fields.Integer(dump_only=True, allow_none=True)
    admitted_at = fields.AwareDateTime(dump_only=True)
    in_quarantine = fields.Boolean(dump_only=True)  # until a vet clears it
    quarantine_cleared_on = fields.Date(dump_only=True, allow_none=True)
    evidence_hold = fields.Boolean(dump_only=True, attribute="case.evidence_hold")
    releasability = fields.String(validate=_one_of(Releasability))
    releasability_reason = fields.String(validate=validate.Length(max=2000))
    notes = fields.String(validate=validate.Length(max=10000))
    identifiers = fields.List(fields.Nested(IdentifierSchema), dump_only=True)
    version = fields.Integer(dump_only=True)


AnimalPatchSchema = patch_schema(AnimalSchema)


class AnimalQuerySchema(Schema):
    facility_id = fields.Integer()
    species_id = fields.Integer()
    # A way of leaving (released, died, ...) or left_care for all of them.
    status = fields.String(validate=validate.OneOf([*(s.value for s in AnimalStatus), LEFT_CARE]))
    enclosure_id = fields.Integer()
    case_id = fields.Integer()
    q = fields.String(validate=validate.Length(max=100))
    admitted_from = fields.Date()
    admitted_to = fields.Date()
    in_quarantine = fields.Boolean()
    evidence_hold = fields.Boolean()
    sort = fields.String(validate=validate.OneOf(["accession", "-accession", "admitted", "-admitted", "species",
                                                  "enclosure", "quantity"]))


class HoldSchema(Schema):
    active = fields.Boolean(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class HoldReviewSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class HoldChangeSchema(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    active = fields.Boolean()
    is_review = fields.Boolean()
    reason = fields.String()
    changed_at = fields.AwareDateTime()
    changed_by_id = fields.Integer(allow_none=True)


class HandoverSchema(Schema):
    id = fields.Integer(dump_only=True)
    case_id = fields.Integer(dump_only=True)
    animal_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    from_party = fields.String(required=True, validate=validate.Length(min=1, max=200))
    to_party = fields.String(required=True, validate=validate.Length(min=1, max=200))
    handed_at = fields.AwareDateTime(required=True)
    place = fields.String(load_default="", validate=validate.Length(max=300))
    purpose = fields.String(load_default="", validate=validate.Length(max=300))
    seal_ids = fields.String(load_default="", validate=validate.Length(max=300))


class MoveSchema(Schema):
    to_enclosure_id = fields.Integer(required=True, strict=True)
    reason = fields.String(load_default="", validate=validate.Length(max=1000))
    # Coordinators and admins only: why an animal a vet has not cleared leaves a quarantine enclosure.
    quarantine_override = fields.String(load_default="", validate=validate.Length(max=2000))


class MoveResultSchema(Schema):
    id = fields.Integer()
    animal_id = fields.Integer()
    from_enclosure_id = fields.Integer(allow_none=True)
    to_enclosure_id = fields.Integer(allow_none=True)
    moved_at = fields.AwareDateTime()
    reason = fields.String()
    quarantine_override = fields.String()


class SplitSchema(Schema):
    quantity = fields.Integer(required=True, strict=True)
    enclosure_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class TimelineEntrySchema(Schema):
    at = fields.AwareDateTime()
    kind = fields.String()
    title = fields.String()
    detail = fields.String()
    actor = fields.String()


class TimelineMetaSchema(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    has_next = fields.Boolean(metadata={"description": "The timeline is merged from many records, so it "
                                                       "says whether an older page exists instead of a total."})


class TimelineSchema(Schema):
    """The list envelope, with has_next in place of total."""

    items = fields.List(fields.Nested(TimelineEntrySchema), attribute="entries")
    meta = fields.Nested(TimelineMetaSchema)
