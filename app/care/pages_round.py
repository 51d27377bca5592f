"""The keeper's round: the enclosures with what is due in each, then an enclosure's tasks, done with a tap.

Cards post with htmx and are swapped for their new state; without JavaScript the
same forms post normally and come back to the enclosure. Every form carries a client
id, so a tap resent after the Wi-Fi dropped is stored once; an expired CSRF token
shows the card again with what was entered (common.security.form_checks_csrf).
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.animals.attachments import AttachmentError, add_attachment, discard_files
from app.animals.models import Animal
from app.auth.permissions import can, require
from app.care import records
from app.care.forms_round import DOSE_LABELS, EATEN_LABELS, KIND_LABELS, EnclosureDoneForm, TaskForm, new_client_id
from app.care.queries import get_task, task_state
from app.care.round import enclosure_open_tasks, enclosure_round, round_overview, round_task
from app.care.services import CareError
from app.care.timing import local_day_bounds
from app.care.views import bp
from app.common.db import utcnow
from app.common.form_flow import show_errors
from app.common.i18n import select_timezone
from app.common.security import form_checks_csrf
from app.extensions import db
from app.reference.queries import get_enclosure, visible_facilities


def _today(now):
    tz = ZoneInfo(select_timezone())
    day_start, day_end = local_day_bounds(now.astimezone(tz).date(), tz)
    return {"day_start": day_start, "day_end": day_end, "now": now}


def card_context() -> dict:
    """What every card of a page shares, worked out once: a card is drawn a hundred times a page."""
    user = current_user._get_current_object()
    # A dose is recorded from DOSE_EARLY_MINUTES before its time (records.complete_task): a card due
    # later than this shows when it opens instead of buttons that would be refused.
    early = current_app.config.get("DOSE_EARLY_MINUTES")
    dose_early = timedelta(minutes=early) if early is not None else None
    labels = {
        "kinds": {k.value: str(v) for k, v in KIND_LABELS.items()},
        "amounts": {k.value: str(v) for k, v in EATEN_LABELS.items()},
        "states": {"overdue": _("Overdue"), "due": _("Due"), "later": _("Later"), "done": _("Done"),
                   "cancelled": _("Cancelled")},
        "animals": _("animals"), "whole_enclosure": _("Whole enclosure"),
        # Filled in per card with the |format filter (one translation per page, not per card).
        "done_by": _("Done %(time)s by %(name)s"), "eaten": _("eaten: %(amount)s"),
        "how_much": _("How much was eaten"), "weight_g": _("Weight (g)"),
        "keys": _("Number keys"), "bcs": _("Body condition (1-9)"), "save_weight": _("Save weight"),
        "done": _("Done"), "note_or_photo": _("Add a note or photo"), "note": _("Note"), "photo": _("Photo"),
        "then_tap": _("Then tap the button above."),
        "csrf_expired": _("This page was open a long time. Nothing was saved yet: tap again."),
        "count": _("%(open)d to do · %(done)d done"),
        # A dose: its buttons, who may give it, and what became of it once recorded.
        "doses": {k.value: str(v) for k, v in DOSE_LABELS.items()},
        "dose_result": _("What became of the dose"),
        "vet_gives": _("A vet gives this dose"),
        "keeper_or_vet_gives": _("A keeper or a vet gives this dose"),
        "dose_not_yet": _("Not due yet: it can be recorded from %(time)s."),
        "dose_done_by": {"given": _("Given %(time)s by %(name)s"),
                         "refused": _("Refused %(time)s · recorded by %(name)s"),
                         "vomited": _("Vomited %(time)s · recorded by %(name)s"),
                         "missed": _("Missed %(time)s · recorded by %(name)s")},
    }
    return {"labels": labels, "csrf": generate_csrf(), "can_log": can("care.log"),
            "tz": ZoneInfo(select_timezone()), "new_client_id": new_client_id,
            # Works on the schedule the card query loaded: no query per card.
            "may_give": lambda schedule: records.may_give_dose(user, schedule),
            "dose_early": dose_early, "dose_opens_after": utcnow() + dose_early if dose_early is not None else None}


@bp.get("/round")
@require("care.view")
def round_page():
    """The round's first page: every enclosure with tasks today, by section, with its counts."""
    facility_id = request.args.get("facility_id", type=int)
    lines = round_overview(facility_ids=[facility_id] if facility_id else None, **_today(utcnow()))
    totals = {"to_do": sum(x.to_do for x in lines), "done": sum(x.done for x in lines)}
    # A keeper's facilities are loaded with the user; only network-wide roles need a query.
    facilities = current_user.facilities if current_user.facility_ids is not None else visible_facilities()
    counts = {"overdue": _("%(n)d overdue"), "due": _("%(n)d due"), "later": _("%(n)d later"),
              "done": _("%(n)d done")}  # filled in per line with |format: one translation per page
    return render_template("care/round.html", lines=lines, totals=totals, facility_id=facility_id,
                           facilities=facilities, counts=counts)


@bp.get("/round/enclosures/<int:enclosure_id>")
@require("care.view")
def round_enclosure(enclosure_id: int):
    """An enclosure's tasks of today: overdue, due, later and done, each a card."""
    return _enclosure_page(get_enclosure(enclosure_id))


@bp.get("/round/unhoused")
@require("care.view")
def round_unhoused():
    """Tasks of animals not housed in an enclosure (admitted without one)."""
    return _enclosure_page(None)


def _enclosure_page(enclosure):
    group = enclosure_round(enclosure, facility_ids=None, **_today(utcnow()))
    return render_template("care/round_enclosure.html", group=group, **card_context())


def _card(task_id: int, form: TaskForm | None = None, message: str = "", status: int = 200):
    """One card again, after a tap: its new state, or the form with what was entered and why it was refused."""
    task = round_task(task_id)
    entered = {"client_id": new_client_id(), "typed": {}, "errors": {}, "form_errors": [], "csrf_expired": False}
    if form is not None:
        entered = {
            "client_id": form.client_id.data or new_client_id(),
            "typed": {"grams": (form.grams.raw_data or [""])[0], "bcs": (form.bcs.raw_data or [""])[0],
                      "notes": form.notes.data},
            "errors": {name: field.errors for name, field in form._fields.items() if field.errors},
            "form_errors": form.form_errors, "csrf_expired": bool(form.csrf_token.errors),
        }
    html = render_template("care/_task_card.html", task=task, state=task_state(task, utcnow()), message=message,
                           **entered, **card_context())
    # htmx swaps no 4xx but 422 (base.html); round.js swaps a refused card too, known by this header.
    return html, status, {"X-Task-Card": "1"}


def _is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def _back_to(task) -> str:
    animal = db.session.get(Animal, task.animal_id) if task.animal_id else None
    enclosure_id = task.enclosure_id or (animal.enclosure_id if animal else None)
    url = url_for("care.round_enclosure", enclosure_id=enclosure_id) if enclosure_id else url_for(
        "care.round_unhoused")
    return url + f"#task-{task.id}"


@bp.post("/round/tasks/<int:task_id>")
@require("care.log")
@form_checks_csrf
def complete_task(task_id: int):
    """Mark a task done; a feeding with the eaten amount tapped, a weighing with its weight, a dose with
    what became of it (given, refused, vomited, missed)."""
    task = get_task(task_id)
    form = TaskForm()
    if not form.validate_on_submit():
        return _card(task.id, form, status=422)
    photo = None
    try:
        if form.photo.data and task.animal_id:
            photo = add_attachment(form.photo.data.stream, form.photo.data.filename,
                                   animal=db.session.get(Animal, task.animal_id), user=current_user,
                                   caption=form.notes.data or "")
        records.complete_task(task, user=current_user, client_id=form.client_id.data, eaten=form.eaten.data or None,
                              given=form.given.data or None, notes=form.notes.data or "", grams=form.grams.data,
                              bcs=form.bcs.data, photo=photo)
        db.session.commit()
    except records.TaskAlreadyDoneError:
        db.session.rollback()
        _discard(photo)
        message = _("Someone else has already done this task.")
        if _is_htmx():
            return _card(task_id, message=message)
        flash(message, "warning")
        return redirect(_back_to(task))
    except records.NotYoursToDoError:
        # A dose only a vet may give (or a role that gives none): forbidden, not bad input. The card
        # comes back without its buttons, saying who gives it.
        db.session.rollback()
        _discard(photo)
        return _card(task_id, message=_("Nothing was saved: you may not record this dose."), status=403)
    except (CareError, AttachmentError) as error:
        db.session.rollback()
        _discard(photo)
        show_errors(form, error.fields)
        return _card(task_id, form, status=422)
    return _card(task_id) if _is_htmx() else redirect(_back_to(task))


def _discard(photo) -> None:
    if photo is not None:
        discard_files(photo)


@bp.post("/round/enclosures/<int:enclosure_id>/done")
@require("care.log")
@form_checks_csrf
def complete_enclosure(enclosure_id: int):
    """"All done in this enclosure": every open task due by now there, except weighings and doses."""
    enclosure = get_enclosure(enclosure_id)
    back = url_for("care.round_enclosure", enclosure_id=enclosure.id)
    form = EnclosureDoneForm()
    if not form.validate_on_submit():
        flash(_("This page was open a long time and its security check expired. Nothing was saved yet: "
                "tap again."), "warning")
        return redirect(back)
    now = utcnow()
    try:
        done = records.complete_enclosure_tasks(enclosure, enclosure_open_tasks(enclosure.id, now),
                                                user=current_user, client_id=form.client_id.data, now=now)
        db.session.commit()
    except CareError as error:
        db.session.rollback()
        flash(" ".join(str(m) for messages in error.fields.values() for m in messages), "danger")
        return redirect(back)
    flash(_("%(code)s: %(n)d tasks marked done.", code=enclosure.code, n=done), "success")
    return redirect(back)
