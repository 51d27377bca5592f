"""JSON shapes of facilities, enclosures and species (API.md field names)."""

from zoneinfo import available_timezones

from marshmallow import Schema, fields, validate

from app.api import patch_schema
from app.auth.models import FacilityKind
from app.reference.models import CitesAppendix, EnclosureKind, IucnStatus, KhCategory, TaxonClass


def _one_of(enum) -> validate.OneOf:
    return validate.OneOf([m.value for m in enum])


class FacilitySchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(load_default=FacilityKind.RESCUE_CENTRE.value, validate=_one_of(FacilityKind))
    province = fields.String(load_default="", validate=validate.Length(max=100))
    timezone = fields.String(load_default="Asia/Phnom_Penh", validate=validate.OneOf(sorted(available_timezones())))
    is_active = fields.Boolean(dump_only=True)
    version = fields.Integer(dump_only=True)


class EnclosureSchema(Schema):
    id = fields.Integer(dump_only=True)
    facility_id = fields.Integer(required=True, strict=True)
    code = fields.String(required=True, validate=validate.Length(min=1, max=30))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    section = fields.String(load_default="", validate=validate.Length(max=100))
    kind = fields.String(load_default=EnclosureKind.OTHER.value, validate=_one_of(EnclosureKind))
    capacity = fields.Integer(strict=True, allow_none=True, load_default=None, validate=validate.Range(min=0))
    is_quarantine = fields.Boolean(load_default=False)
    is_active = fields.Boolean(dump_only=True)
    version = fields.Integer(dump_only=True)


class EnclosureQuerySchema(Schema):
    facility_id = fields.Integer(strict=False)
    is_quarantine = fields.Boolean()


class SpeciesSchema(Schema):
    id = fields.Integer(dump_only=True)
    scientific_name = fields.String(required=True, validate=validate.Length(min=3, max=200))
    common_name_en = fields.String(required=True, validate=validate.Length(min=1, max=200))
    common_name_km = fields.String(load_default="", validate=validate.Length(max=200))
    taxon_class = fields.String(required=True, validate=_one_of(TaxonClass))
    iucn_status = fields.String(load_default=IucnStatus.NE.value, validate=_one_of(IucnStatus))
    cites_appendix = fields.String(load_default=CitesAppendix.NONE.value, validate=_one_of(CitesAppendix))
    kh_category = fields.String(load_default=KhCategory.NOT_LISTED.value, validate=_one_of(KhCategory))
    quarantine_days = fields.Integer(strict=True, load_default=30, validate=validate.Range(min=0, max=365))
    expected_stay_days = fields.Integer(strict=True, allow_none=True, load_default=None,
                                        validate=validate.Range(min=1, max=3650))
    zoonosis_note = fields.String(load_default="", validate=validate.Length(max=2000))
    version = fields.Integer(dump_only=True)


class SpeciesQuerySchema(Schema):
    q = fields.String(validate=validate.Length(max=100))
    taxon_class = fields.String(validate=_one_of(TaxonClass))


FacilityPatchSchema = patch_schema(FacilitySchema, exclude=("code",))
EnclosurePatchSchema = patch_schema(EnclosureSchema, exclude=("facility_id",))
SpeciesPatchSchema = patch_schema(SpeciesSchema)
