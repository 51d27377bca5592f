"""Quarantine pages: a vet clears an animal's quarantine, and keeps the list of tests each species needs.

Clearing shows the required tests and where each stands; the service refuses while
a result is missing (a positive one counts: it is recorded, and weighs on
releasability instead). The list of tests is by species or by taxon class; the
clearance page of every animal of that species reads it.
"""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.animals.models import AnimalStatus
from app.animals.pages_animals import header_context
from app.animals.queries import get_animal
from app.auth.permissions import require
from app.common.db import utcnow
from app.common.form_flow import Outcome, save
from app.common.security import form_checks_csrf
from app.extensions import db
from app.reference.forms import TAXON_CLASS_LABELS
from app.reference.queries import species_stmt
from app.vet import quarantine
from app.vet.forms_outcomes import ClearQuarantineForm, QuarantineTestForm
from app.vet.pages_outcomes import facility_zone
from app.vet.queries import get_quarantine_test, quarantine_tests_stmt
from app.vet.views import bp

TEST_STATE_LABELS = {
    "missing": _l("No sample recorded"),
    "pending": _l("Sample sent, result pending"),
    "negative": _l("Negative"),
    "positive": _l("Positive"),
    "inconclusive": _l("Inconclusive"),
}
# The species list of the tests page's select; a catalogue is a few hundred species.
SPECIES_CHOICES_MAX = 2000


@bp.route("/animals/<int:animal_id>/quarantine/clear", methods=["GET", "POST"])
@require("vet.write")
@form_checks_csrf
def clear_quarantine(animal_id: int):
    """End an animal's quarantine: the required tests and their state, the day, notes."""
    animal = get_animal(animal_id)
    zone = facility_zone(animal)
    form = ClearQuarantineForm()
    if not form.is_submitted():
        form.cleared_on.data = utcnow().astimezone(zone).date()
    if form.validate_on_submit():
        outcome = save(form, lambda: quarantine.clear_quarantine(animal, user=current_user,
                                                                 cleared_on=form.cleared_on.data,
                                                                 notes=form.notes.data or ""))
        if outcome is Outcome.SAVED:
            flash(_("The quarantine of %(animal)s is cleared.", animal=animal.accession_number), "success")
            return redirect(url_for("animals.animal_record", animal_id=animal_id))
        animal = get_animal(animal_id)
    state = quarantine.quarantine_state(animal)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("vet/quarantine_clear.html", form=form, state=state, state_labels=TEST_STATE_LABELS,
                           left_care=animal.status != AnimalStatus.IN_CARE, **header_context(animal)), status


def _tests_page(form, status=200):
    rows = db.session.execute(quarantine_tests_stmt()).unique().scalars().all()
    return render_template("vet/quarantine_tests.html", form=form, rows=rows,
                           class_labels=TAXON_CLASS_LABELS), status


@bp.route("/vet/quarantine-tests", methods=["GET", "POST"])
@require("vet.quarantine_tests")
@form_checks_csrf
def quarantine_tests():
    """The tests each species, or each taxon class, needs a result for before quarantine is cleared."""
    form = QuarantineTestForm()
    form.set_species(db.session.execute(species_stmt().limit(SPECIES_CHOICES_MAX)).scalars())
    if form.validate_on_submit():
        outcome = save(form, lambda: quarantine.add_quarantine_test(
            test=form.test.data, species_id=form.species_id.data, taxon_class=form.taxon_class.data or None),
            clash_message=_("This test is already required."))
        if outcome is Outcome.SAVED:
            flash(_("Test %(test)s is now required.", test=" ".join((form.test.data or "").split())), "success")
            return redirect(url_for("vet.quarantine_tests"))
    return _tests_page(form, 422 if form.errors or form.form_errors else 200)


@bp.post("/vet/quarantine-tests/<int:test_id>/remove")
@require("vet.quarantine_tests")
def remove_quarantine_test(test_id: int):
    """No longer require a test (the audit log keeps that it was)."""
    row = get_quarantine_test(test_id)
    name = row.test
    quarantine.remove_quarantine_test(row)
    db.session.commit()
    flash(_("Test %(test)s is no longer required.", test=name), "success")
    return redirect(url_for("vet.quarantine_tests"))
