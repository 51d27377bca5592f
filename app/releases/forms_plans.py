"""Forms of the release plan pages: a plan and its animals, the vet's sign-off, approval, completion, cancellation.

As on the other domains' pages the forms check only the shape of the input; the
rules (an active site, a day not in the past, counts within what is in care and not
in other plans, evidence holds, overrides of unmet criteria) live in
app.releases.plans, which the JSON API calls too, so the page shows the API's
messages.

The animals of a plan are rows named by animal id, not a fixed list of fields: a
row is shown for every `row` id posted (or every `animal` id of the query string on
the first GET), it is in the plan when its `animal` checkbox is ticked, and it has
`count_<id>` (lots) and `override_<id>` (an animal not ready) inputs. The minimal
body of a plan is then `site_id`, `planned_on` and `animal=<id>` (plus
`count_<id>` for a lot and `override_<id>` for an animal not ready).
"""

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.animals.models import Animal
from app.reference.forms import VersionField
from app.releases.readiness import Readiness


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _id_or_none(value):
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


def ids_of(values: list[str]) -> list[int]:
    """Whole-number ids in the order given, each once; anything else is left out."""
    ids: list[int] = []
    for value in values:
        number = _id_or_none(value)
        if number is not None and number not in ids:
            ids.append(number)
    return ids


def accession_numbers(text: str | None) -> list[str]:
    """Accession numbers typed in a box, separated by spaces, commas or new lines."""
    return [n for n in (text or "").replace(",", " ").split() if n]


@dataclass
class PlanRow:
    """One animal shown on the form: whether it is in the plan, its count (lots), its override and readiness."""

    animal: Animal
    included: bool = True
    count: str = ""  # as typed
    override_reason: str = ""
    readiness: Readiness | None = None
    elsewhere: int = 0  # of it in other open plans

    @property
    def free(self) -> int:
        return max(0, self.animal.quantity - self.elsewhere)

    def value(self) -> dict:
        """The row in the service's terms: {animal_id, count, override_reason}."""
        typed = self.count.strip()
        if not self.animal.is_lot:
            count = None  # an individual: 1
        elif typed.isdigit():
            count = int(typed)
        else:
            count = None  # the service says between 1 and how many
        return {"animal_id": self.animal.id, "count": count, "override_reason": self.override_reason.strip()}


class AnimalRowsForm(FlaskForm):
    """The animals of a plan (rows read by `read_rows`) and a box to add more by accession number."""

    add_accession = StringField(_l("Add animals by accession number"), filters=[_strip],
                                validators=[Length(max=2000)])
    version = VersionField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows: list[PlanRow] = []
        self.animal_errors: list[str] = []

    def values(self) -> list[dict]:
        return [row.value() for row in self.rows if row.included]

    def add_errors(self, fields: dict[str, list[str]]) -> None:
        """The service's messages: about the animals above the table of animals, the others on their fields."""
        for name, messages in fields.items():
            messages = [str(m) for m in messages]
            if name in ("animals", "override_reason", "animal"):
                self.animal_errors.extend(messages)
                continue
            target = self._fields.get(name)
            if target is not None and name not in ("version", "csrf_token"):
                target.errors = [*target.errors, *messages]
            else:
                self.form_errors.extend(messages)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.form_errors or self.animal_errors)


class PlanForm(AnimalRowsForm):
    site_id = SelectField(_l("Release site"), coerce=_id_or_none, validate_choice=False)
    planned_on = DateField(_l("Planned day"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=20000)], render_kw={"rows": 3})


class SignoffForm(FlaskForm):
    notes = TextAreaField(_l("Notes"), validators=[Length(max=5000)], render_kw={"rows": 3})
    version = VersionField()


class ApproveForm(FlaskForm):
    permit_reference = StringField(_l("Permit reference"), filters=[_strip], validators=[Length(max=200)])
    override_reason = TextAreaField(_l("Why release animals that are not ready"), validators=[Length(max=5000)],
                                    render_kw={"rows": 2})
    version = VersionField()


class CompleteForm(FlaskForm):
    completed_on = DateField(_l("Released on"), validators=[Optional()])
    override_reason = TextAreaField(_l("Why release animals that are not ready"), validators=[Length(max=5000)],
                                    render_kw={"rows": 2})
    version = VersionField()


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Length(max=5000)], render_kw={"rows": 2})
    version = VersionField()


@dataclass
class RowSource:
    """What the request says about the rows: the ids shown, those ticked, and typed counts and reasons."""

    shown: list[int]
    included: set[int]
    counts: dict[int, str] = field(default_factory=dict)
    reasons: dict[int, str] = field(default_factory=dict)

    @classmethod
    def from_post(cls, form) -> "RowSource":
        ticked = ids_of(form.getlist("animal"))
        shown = ids_of(form.getlist("row")) or ticked
        shown += [i for i in ticked if i not in shown]
        return cls(shown=shown, included=set(ticked),
                   counts={i: form.get(f"count_{i}", "") for i in shown},
                   reasons={i: form.get(f"override_{i}", "") for i in shown})


STATUS_LABELS = {
    "draft": _l("Draft"),
    "approved": _l("Approved"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
}
OBSERVATION_LABELS = {
    "sighting": _l("Sighting"),
    "telemetry": _l("Telemetry"),
    "found_dead": _l("Found dead"),
    "recaptured": _l("Recaptured"),
}
