"""An animal's release readiness, by hand: a keeper's or vet's pass or fail, a coordinator's releasability decision.

The assessment page is made for a tablet in the enclosure: the criterion, two big
buttons (pass, fail), when (now by default, the facility's wall clock) and notes. It
goes through app.releases.services.record_assessment, as the API does. The decision
(undetermined, candidate, non-releasable with its reason) goes through
app.animals.services.update_animal, which asks the reason of a lifetime resident;
it is an edit of the animal record, so a stale one is a conflict (409). Animals
outside the user's facilities are 404 (animals.queries.get_animal sees to that).
"""

from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.animals import services as animal_services
from app.animals.models import Animal, AnimalStatus
from app.animals.pages_animals import header_context
from app.animals.queries import get_animal
from app.auth.models import Facility
from app.auth.permissions import require
from app.common.db import utcnow
from app.common.form_flow import Outcome, edit_versioned, save
from app.common.security import form_checks_csrf
from app.extensions import db
from app.releases import services
from app.releases.forms import RELEASABILITY_LABELS, RESULT_LABELS, AssessmentForm, ReleasabilityForm, labels
from app.releases.models import CriterionKind, ReleaseCriterion
from app.releases.readiness import criteria_for, readiness
from app.releases.views import bp

MAX_ID = 2**63 - 1  # the largest id a database integer holds


def _zone(animal: Animal) -> ZoneInfo:
    """The animal's facility's time zone: what the clock on the enclosure's wall says."""
    return ZoneInfo(db.session.get(Facility, animal.facility_id).timezone)


def _record_url(animal_id: int) -> str:
    return url_for("animals.animal_record", animal_id=animal_id)


def _get_animal(animal_id: int) -> Animal:
    """The animal if the user may see it, else 404 (an id too large for the database too)."""
    if animal_id > MAX_ID:
        abort(404)
    return get_animal(animal_id)


def _manual_criteria(animal: Animal) -> list[ReleaseCriterion]:
    return [c for c in criteria_for({animal.species_id}).get(animal.species_id, []) if c.kind == CriterionKind.MANUAL]


@bp.route("/animals/<int:animal_id>/assessments/new", methods=["GET", "POST"])
@require("release.assess")
@form_checks_csrf
def new_assessment(animal_id: int):
    """Pass or fail on one of the animal's manual criteria (?criterion=KEY chooses it)."""
    animal = _get_animal(animal_id)
    manual = _manual_criteria(animal)
    form = AssessmentForm()
    form.set_criteria(manual)
    if request.method == "GET":
        asked = request.args.get("criterion")
        form.criterion.data = asked if asked in {c.key for c in manual} else (manual[0].key if manual else None)
        form.assessed_at.data = utcnow().astimezone(_zone(animal)).replace(tzinfo=None, second=0, microsecond=0)
    if form.validate_on_submit():
        typed = form.assessed_at.data
        assessed_at = typed.replace(tzinfo=_zone(animal)) if typed is not None else None
        key, result = form.criterion.data or "", form.result.data or ""

        def write():
            services.record_assessment(animal, user=current_user, criterion=key, result=result,
                                       assessed_at=assessed_at, notes=form.notes.data or "")

        if save(form, write) is Outcome.SAVED:
            flash(_("%(animal)s: %(criterion)s, %(result)s.", animal=animal.accession_number, criterion=key,
                    result=RESULT_LABELS.get(result, result)), "success")
            return redirect(_record_url(animal_id))
        animal = _get_animal(animal_id)  # the session was rolled back
        manual = _manual_criteria(animal)
    status = 422 if form.errors or form.form_errors else 200
    chosen = next((c for c in manual if c.key == form.criterion.data), None)
    return render_template("releases/assessment_form.html", form=form, manual=manual, chosen=chosen,
                           in_care=animal.status == AnimalStatus.IN_CARE, **header_context(animal),
                           **labels()), status


def _releasability_page(form, animal, conflict=False, status=200):
    if status == 200 and (form.errors or form.form_errors):
        status = 422
    return render_template("releases/releasability_form.html", form=form, conflict=conflict,
                           state=readiness(animal, utcnow()) if animal.status == AnimalStatus.IN_CARE else None,
                           **header_context(animal), **labels()), status


@bp.route("/animals/<int:animal_id>/releasability", methods=["GET", "POST"])
@require("release.plan")
@form_checks_csrf
def releasability(animal_id: int):
    """The coordinator's decision: undetermined, a release candidate, or a lifetime resident (with why)."""
    animal = _get_animal(animal_id)
    if request.method == "GET":
        form = ReleasabilityForm(formdata=None, data={"releasability": animal.releasability,
                                                      "releasability_reason": animal.releasability_reason,
                                                      "version": animal.version})
        return _releasability_page(form, animal)
    form = ReleasabilityForm()

    def saved(record):
        flash(_("%(animal)s: %(decision)s.", animal=record.accession_number,
                decision=RELEASABILITY_LABELS.get(record.releasability, record.releasability)), "success")
        return redirect(_record_url(record.id))

    return edit_versioned(
        animal, form, write=lambda record: animal_services.update_animal(record, form.values()),
        reload=lambda: _get_animal(animal_id), page=_releasability_page, saved=saved,
    )
