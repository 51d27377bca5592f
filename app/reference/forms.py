"""Forms of the reference-data pages: facilities, enclosures and species.

The forms check only the shape of the input (required, length, a whole number);
the rules (known choices, duplicate codes and names, ranges, time zones) live in
reference.services, which the JSON API calls too, so pages and API agree. That is
why the choice fields do not validate their choice themselves: the service's
message is the one the user sees, the same one the API returns.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from app.auth.models import FacilityKind
from app.reference.models import CitesAppendix, EnclosureKind, IucnStatus, KhCategory, TaxonClass

FACILITY_KIND_LABELS = {
    FacilityKind.RESCUE_CENTRE.value: _l("Rescue centre"),
    FacilityKind.RELEASE_STATION.value: _l("Release station"),
    FacilityKind.SANCTUARY.value: _l("Sanctuary"),
}
ENCLOSURE_KIND_LABELS = {
    EnclosureKind.CAGE.value: _l("Cage"),
    EnclosureKind.PEN.value: _l("Pen"),
    EnclosureKind.AVIARY.value: _l("Aviary"),
    EnclosureKind.TANK.value: _l("Tank"),
    EnclosureKind.POND.value: _l("Pond"),
    EnclosureKind.NIGHT_HOUSE.value: _l("Night house"),
    EnclosureKind.FOREST_ENCLOSURE.value: _l("Forest enclosure"),
    EnclosureKind.CLINIC.value: _l("Clinic"),
    EnclosureKind.OTHER.value: _l("Other"),
}
TAXON_CLASS_LABELS = {
    TaxonClass.MAMMAL.value: _l("Mammal"),
    TaxonClass.BIRD.value: _l("Bird"),
    TaxonClass.REPTILE.value: _l("Reptile"),
    TaxonClass.AMPHIBIAN.value: _l("Amphibian"),
    TaxonClass.FISH.value: _l("Fish"),
}
IUCN_LABELS = {
    IucnStatus.EX.value: _l("Extinct"),
    IucnStatus.EW.value: _l("Extinct in the wild"),
    IucnStatus.CR.value: _l("Critically endangered"),
    IucnStatus.EN.value: _l("Endangered"),
    IucnStatus.VU.value: _l("Vulnerable"),
    IucnStatus.NT.value: _l("Near threatened"),
    IucnStatus.LC.value: _l("Least concern"),
    IucnStatus.DD.value: _l("Data deficient"),
    IucnStatus.NE.value: _l("Not evaluated"),
}
CITES_LABELS = {
    CitesAppendix.I.value: _l("Appendix I"),
    CitesAppendix.II.value: _l("Appendix II"),
    CitesAppendix.III.value: _l("Appendix III"),
    CitesAppendix.NONE.value: _l("Not listed"),
}
KH_CATEGORY_LABELS = {
    KhCategory.ENDANGERED.value: _l("Endangered"),
    KhCategory.RARE.value: _l("Rare"),
    KhCategory.COMMON.value: _l("Common"),
    KhCategory.NOT_LISTED.value: _l("Not listed"),
}


def labels() -> dict:
    """Every label table, for the templates (one name each)."""
    return {
        "facility_kinds": FACILITY_KIND_LABELS,
        "enclosure_kinds": ENCLOSURE_KIND_LABELS,
        "taxon_classes": TAXON_CLASS_LABELS,
        "iucn_labels": IUCN_LABELS,
        "cites_labels": CITES_LABELS,
        "kh_labels": KH_CATEGORY_LABELS,
    }


def choices(label_table: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in label_table.items()]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class RuleCheckedSelect(SelectField):
    """A select whose value the service checks (so the page shows the API's message)."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("validate_choice", False)
        super().__init__(label, validators, **kwargs)
        self.type = "SelectField"  # rendered like any select by the _form.html macros


class VersionField(IntegerField):
    """The version of the record the form was loaded from (optimistic locking)."""

    widget = HiddenInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators or [Optional()], **kwargs)

    def process_formdata(self, valuelist):
        # A missing or mangled version is treated as "unknown", never as a 500 or a field error
        # the user cannot see: the view answers it with the conflict page.
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None


class FacilityForm(FlaskForm):
    code = StringField(_l("Code"), filters=[_strip], validators=[DataRequired(), Length(max=20)])
    name = StringField(_l("Name"), filters=[_strip], validators=[DataRequired(), Length(max=200)])
    kind = RuleCheckedSelect(_l("Kind"), choices=choices(FACILITY_KIND_LABELS),
                             default=FacilityKind.RESCUE_CENTRE.value)
    province = StringField(_l("Province"), filters=[_strip], validators=[Length(max=100)])
    timezone = StringField(_l("Time zone"), filters=[_strip], default="Asia/Phnom_Penh",
                           validators=[DataRequired(), Length(max=64)], render_kw={"list": "timezone-options"})


class EditFacilityForm(FacilityForm):
    """A facility's code is its identity in reports and accession numbers: not editable."""

    code = None
    version = VersionField()


class EnclosureForm(FlaskForm):
    # Limited to the facilities the user may see: a choice outside them is refused here.
    facility_id = SelectField(_l("Facility"), coerce=int, validators=[InputRequired()])
    code = StringField(_l("Code"), filters=[_strip], validators=[DataRequired(), Length(max=30)])
    name = StringField(_l("Name"), filters=[_strip], validators=[DataRequired(), Length(max=200)])
    section = StringField(_l("Section"), filters=[_strip], validators=[Length(max=100)])
    # services.create/update_enclosure do not check the kind (the API's schema does), so this select does.
    kind = SelectField(_l("Kind"), choices=choices(ENCLOSURE_KIND_LABELS), default=EnclosureKind.OTHER.value)
    capacity = IntegerField(_l("Capacity (animals)"), validators=[Optional()])
    is_quarantine = BooleanField(_l("Quarantine enclosure"))


class EditEnclosureForm(EnclosureForm):
    """An enclosure stays at its facility (as in the API); moving animals is a housing move."""

    facility_id = None
    version = VersionField()


class SpeciesForm(FlaskForm):
    scientific_name = StringField(_l("Scientific name"), filters=[_strip],
                                  validators=[DataRequired(), Length(min=3, max=200)])
    common_name_en = StringField(_l("English name"), filters=[_strip], validators=[DataRequired(), Length(max=200)])
    common_name_km = StringField(_l("Khmer name"), filters=[_strip], validators=[Length(max=200)],
                                 render_kw={"lang": "km"})
    taxon_class = RuleCheckedSelect(_l("Taxon class"), choices=choices(TAXON_CLASS_LABELS),
                                    validators=[DataRequired()])
    iucn_status = RuleCheckedSelect(_l("IUCN Red List category"), choices=choices(IUCN_LABELS),
                                    default=IucnStatus.NE.value)
    cites_appendix = RuleCheckedSelect(_l("CITES appendix"), choices=choices(CITES_LABELS),
                                       default=CitesAppendix.NONE.value)
    kh_category = RuleCheckedSelect(_l("Cambodian Forestry Law category"), choices=choices(KH_CATEGORY_LABELS),
                                    default=KhCategory.NOT_LISTED.value)
    quarantine_days = IntegerField(_l("Default quarantine (days)"), default=30, validators=[InputRequired()])
    expected_stay_days = IntegerField(_l("Usual stay before release (days; empty: the class's)"),
                                      validators=[Optional()])
    zoonosis_note = TextAreaField(_l("Zoonosis and biosafety note"), validators=[Length(max=2000)],
                                  render_kw={"rows": 3})


class EditSpeciesForm(SpeciesForm):
    """The species form with the version it was loaded at."""

    version = VersionField()
