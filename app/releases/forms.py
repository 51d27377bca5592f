"""Forms of the release pages: checklist criteria, release sites, an assessment, a releasability decision.

As on the other domains' pages, the forms check only the shape of the input (a whole
number, a decimal, a length); the rules (an automatic key the records can answer, a
least weight or body condition for min_weight, coordinates in range, a reason for a
lifetime resident) live in app.releases.services and app.animals.services, which the
JSON API calls too, so the page shows the API's messages.
"""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.animals.models import Releasability
from app.reference.forms import TAXON_CLASS_LABELS, RuleCheckedSelect, VersionField, choices
from app.releases.models import AssessmentResult, AutoKey, CriterionKind

KIND_LABELS = {
    CriterionKind.AUTO.value: _l("Automatic (from the records)"),
    CriterionKind.MANUAL.value: _l("Manual (assessed by a person)"),
}
AUTO_LABELS = {
    AutoKey.QUARANTINE_CLEARED.value: _l("Quarantine cleared by a vet"),
    AutoKey.NO_ACTIVE_PROBLEMS.value: _l("Nothing active on the problem list"),
    AutoKey.NO_RECENT_MEDICATION.value: _l("No medication for some days"),
    AutoKey.MIN_WEIGHT.value: _l("Least weight or body condition"),
    AutoKey.LAB_NEGATIVE.value: _l("Lab tests negative"),
    AutoKey.NO_EVIDENCE_HOLD.value: _l("No evidence hold on the case"),
}
RESULT_LABELS = {AssessmentResult.PASS.value: _l("Pass"), AssessmentResult.FAIL.value: _l("Fail")}
RELEASABILITY_LABELS = {
    Releasability.UNDETERMINED.value: _l("Undetermined"),
    Releasability.CANDIDATE.value: _l("Release candidate"),
    Releasability.NON_RELEASABLE.value: _l("Non-releasable (lifetime resident)"),
}
# The browser's own format first (it is how the default is written into the box).
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def labels() -> dict:
    """The label tables the release templates use."""
    return {"kind_labels": KIND_LABELS, "auto_labels": AUTO_LABELS, "taxon_classes": TAXON_CLASS_LABELS,
            "result_labels": RESULT_LABELS, "releasability_labels": RELEASABILITY_LABELS, "plain": plain}


def plain(value) -> str:
    """A decimal as typed, without trailing zeros or an exponent (5500, 13.58), or ""."""
    return format(value.normalize(), "f") if value is not None else ""


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def parse_tests(text: str | None) -> list[str]:
    """ "tuberculin test, herpes B serology" (commas, semicolons or lines) → the list of test names."""
    return [part.strip() for part in re.split(r"[,;\n]+", text or "") if part.strip()]


# --- criteria ---------------------------------------------------------------------------------

class _Parameters(FlaskForm):
    """What a criterion asks, whatever its checklist."""

    label = StringField(_l("What the assessor checks"), filters=[_strip], validators=[Length(max=200)])
    days = IntegerField(_l("Days without medication"), validators=[Optional()],
                        render_kw={"inputmode": "numeric", "min": 0})
    min_weight_g = DecimalField(_l("Least weight (g)"), validators=[Optional()], render_kw={"inputmode": "decimal"})
    min_bcs = IntegerField(_l("Least body condition (1-9)"), validators=[Optional()],
                           render_kw={"inputmode": "numeric", "min": 1, "max": 9})
    tests = StringField(_l("Tests that must be negative"), filters=[_strip], validators=[Length(max=2000)],
                        render_kw={"placeholder": "tuberculin test, herpes B serology"})
    expires_days = IntegerField(_l("An assessment is valid for (days)"), validators=[Optional()],
                                render_kw={"inputmode": "numeric", "min": 1})

    # The service's field names that are not the form's.
    FIELD_NAMES = {"species_id": "species"}

    def parameter_values(self) -> dict:
        return {"label": self.label.data or "", "days": self.days.data, "min_weight_g": self.min_weight_g.data,
                "min_bcs": self.min_bcs.data, "tests": parse_tests(self.tests.data),
                "expires_days": self.expires_days.data}

    def add_errors(self, fields: dict[str, list[str]]) -> None:
        """The service's messages next to their fields; others above the form."""
        for name, messages in fields.items():
            field = self._fields.get(self.FIELD_NAMES.get(name, name))
            if field is not None and name not in ("version", "csrf_token"):
                field.errors = [*field.errors, *map(str, messages)]
            else:
                self.form_errors.extend(map(str, messages))


class CriterionForm(_Parameters):
    """A new criterion: for one species (its id or its name), or for a whole taxon class."""

    species = StringField(_l("Species"), filters=[_strip], validators=[Length(max=420)],
                          render_kw={"list": "species-options", "autocomplete": "off"})
    taxon_class = RuleCheckedSelect(_l("Taxon class"), choices=[SelectChoice("", "—"), *choices(TAXON_CLASS_LABELS)])
    kind = RuleCheckedSelect(_l("Kind"), choices=choices(KIND_LABELS), default=CriterionKind.MANUAL.value)
    key = StringField(_l("Key"), filters=[_strip], validators=[Length(max=40)],
                      render_kw={"list": "auto-keys", "autocomplete": "off", "placeholder": "forages_natural_food"})

    def values(self, species_id: int | None) -> dict:
        return self.parameter_values() | {"species_id": species_id, "taxon_class": self.taxon_class.data or None,
                                          "kind": self.kind.data, "key": self.key.data or ""}


class EditCriterionForm(_Parameters):
    """A criterion keeps its checklist, kind and key (assessments are kept by key); it can be switched off."""

    is_active = BooleanField(_l("Applies (switched off, it is left out of the checklist)"))
    version = VersionField()

    def values(self) -> dict:
        return self.parameter_values() | {"is_active": bool(self.is_active.data)}


def criterion_data(criterion) -> dict:
    """An edit form's starting values: the criterion as stored."""
    return {"label": criterion.label, "days": criterion.days, "min_weight_g": criterion.min_weight_g,
            "min_bcs": criterion.min_bcs, "tests": ", ".join(criterion.tests or []),
            "expires_days": criterion.expires_days, "is_active": criterion.is_active, "version": criterion.version}


# --- sites ------------------------------------------------------------------------------------

class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes; the service checks the values (so the page shows the API's message)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("validate_choice", False)
        super().__init__(label, validators, **kwargs)


class SiteForm(FlaskForm):
    name = StringField(_l("Name"), filters=[_strip], validators=[Length(max=200)])
    protected_area = StringField(_l("Protected area"), filters=[_strip], validators=[Length(max=200)])
    province = StringField(_l("Province"), filters=[_strip], validators=[Length(max=100)])
    # Text boxes: the service reads the number and says what a coordinate may be.
    latitude = StringField(_l("Latitude"), filters=[_strip], validators=[Length(max=40)],
                           render_kw={"inputmode": "decimal", "placeholder": "13.58"})
    longitude = StringField(_l("Longitude"), filters=[_strip], validators=[Length(max=40)],
                            render_kw={"inputmode": "decimal", "placeholder": "104.11"})
    habitat = TextAreaField(_l("Habitat"), validators=[Length(max=5000)], render_kw={"rows": 2})
    suitable_taxa = CheckboxesField(_l("Suitable for"), choices=choices(TAXON_CLASS_LABELS))
    notes = TextAreaField(_l("Notes"), validators=[Length(max=10000)], render_kw={"rows": 3})

    def values(self, *, with_coordinates: bool) -> dict:
        values = {"name": self.name.data or "", "protected_area": self.protected_area.data or "",
                  "province": self.province.data or "", "habitat": self.habitat.data or "",
                  "suitable_taxa": list(self.suitable_taxa.data or []), "notes": self.notes.data or ""}
        if with_coordinates:
            values |= {"latitude": self.latitude.data or None, "longitude": self.longitude.data or None}
        return values


class EditSiteForm(SiteForm):
    is_active = BooleanField(_l("In use (a site no longer used is kept for the plans that went there)"))
    version = VersionField()

    def values(self, *, with_coordinates: bool) -> dict:
        return super().values(with_coordinates=with_coordinates) | {"is_active": bool(self.is_active.data)}


def site_data(site, *, with_coordinates: bool) -> dict:
    data = {"name": site.name, "protected_area": site.protected_area, "province": site.province,
            "habitat": site.habitat, "suitable_taxa": list(site.suitable_taxa or []), "notes": site.notes,
            "is_active": site.is_active, "version": site.version}
    if with_coordinates:
        data |= {"latitude": plain(site.latitude), "longitude": plain(site.longitude)}
    return data


# --- an assessment and a releasability decision ----------------------------------------------

class AssessmentForm(FlaskForm):
    """Pass or fail comes from the button pressed (name="result"): the field itself is never drawn."""

    criterion = RuleCheckedSelect(_l("Criterion"), choices=[])
    result = StringField(_l("Result"), filters=[_strip])
    assessed_at = DateTimeLocalField(_l("Assessed at"), validators=[Optional()], format=LOCAL_FORMATS)
    notes = TextAreaField(_l("Notes"), validators=[Length(max=5000)], render_kw={"rows": 3})

    def set_criteria(self, criteria) -> None:
        self.criterion.choices = [SelectChoice(c.key, c.label or c.key) for c in criteria]


class ReleasabilityForm(FlaskForm):
    releasability = RadioField(_l("Decision"), choices=choices(RELEASABILITY_LABELS), validate_choice=False)
    releasability_reason = TextAreaField(_l("Reason (required for a lifetime resident)"),
                                         validators=[Length(max=2000)], render_kw={"rows": 3})
    version = VersionField()

    def values(self) -> dict:
        return {"releasability": self.releasability.data or "",
                "releasability_reason": (self.releasability_reason.data or "").strip()}
