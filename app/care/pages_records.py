"""Pages to log care outside the round (for an animal or a whole enclosure) and to record a weight."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.animals.pages_animals import header_context
from app.animals.queries import get_animal
from app.auth.permissions import require
from app.care import records
from app.care.forms_round import CareLogForm, WeightForm
from app.care.services import CareError
from app.care.views import bp
from app.common.form_flow import show_errors
from app.common.i18n import select_timezone
from app.common.security import form_checks_csrf
from app.extensions import db
from app.reference.queries import get_enclosure


def _aware(local: datetime | None) -> datetime | None:
    """A time typed on the page is the wall clock of the user's zone."""
    return local.replace(tzinfo=ZoneInfo(select_timezone())) if local is not None else None


def _care_log_page(*, animal=None, enclosure=None, done_url: str):
    """The care log form for an animal or an enclosure, and its POST."""
    form = CareLogForm()
    if enclosure is not None:
        form.kind.choices = [c for c in form.kind.choices if c[0] != "weigh"]
    if form.validate_on_submit():
        try:
            _log, created = records.log_care(
                animal=animal, enclosure=enclosure, user=current_user, client_id=form.client_id.data,
                kind=form.kind.data, done_at=_aware(form.done_at.data), eaten=form.eaten.data or None,
                appetite=form.appetite.data, stool=form.stool.data, behaviour=form.behaviour.data,
                notes=form.notes.data, head_count=form.head_count.data if animal is not None else None,
            )
            db.session.commit()
        except CareError as error:
            db.session.rollback()
            show_errors(form, error.fields)
        else:
            flash(_("Care logged.") if created else _("This care log was already saved."), "success")
            return redirect(done_url)
    status = 422 if form.errors or form.form_errors else 200
    context = header_context(animal) if animal is not None else {"enclosure": enclosure}
    return render_template("care/care_log_form.html", form=form, **context), status


@bp.route("/animals/<int:animal_id>/care-logs/new", methods=["GET", "POST"])
@require("care.log")
@form_checks_csrf
def new_care_log(animal_id: int):
    """A feeding, observation, cleaning or enrichment outside the round; back-dated within the window."""
    animal = get_animal(animal_id)
    return _care_log_page(animal=animal, done_url=url_for("animals.animal_record", animal_id=animal.id))


@bp.route("/enclosures/<int:enclosure_id>/care-logs/new", methods=["GET", "POST"])
@require("care.log")
@form_checks_csrf
def new_enclosure_log(enclosure_id: int):
    """Care of a whole enclosure outside the round: an extra cleaning, enrichment, an observation."""
    enclosure = get_enclosure(enclosure_id)
    return _care_log_page(enclosure=enclosure, done_url=url_for("care.round_page") + f"#enclosure-{enclosure.id}")


@bp.route("/animals/<int:animal_id>/weights/new", methods=["GET", "POST"])
@require("care.log")
@form_checks_csrf
def new_weight(animal_id: int):
    """A weighing in grams with an optional body condition score."""
    animal = get_animal(animal_id)
    form = WeightForm()
    if form.validate_on_submit():
        try:
            _weight, created = records.record_weight(
                animal, user=current_user, grams=form.grams.data, bcs=form.bcs.data,
                measured_at=_aware(form.measured_at.data), client_id=form.client_id.data,
            )
            db.session.commit()
        except CareError as error:
            db.session.rollback()
            show_errors(form, error.fields)
        else:
            flash(_("Weight recorded.") if created else _("This weight was already saved."), "success")
            return redirect(url_for("animals.animal_record", animal_id=animal.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("care/weight_form.html", form=form, **header_context(animal)), status
