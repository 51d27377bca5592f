"""The keeper's round: today's tasks by section and enclosure, each done with one tap.

Cards post with htmx and are swapped for their new state; without JavaScript the
same forms post normally and come back to the round. Every form carries a client
id, so a tap resent after the Wi-Fi dropped is stored once; an expired CSRF token
shows the card again with what was entered (common.security.form_checks_csrf).
"""

from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.animals.attachments import AttachmentError, add_attachment, discard_files
from app.animals.models import Animal
from app.auth.permissions import require
from app.care import queries, records
from app.care.forms_round import EATEN_LABELS, KIND_LABELS, EnclosureDoneForm, TaskForm, new_client_id
from app.care.models import CareKind
from app.care.services import CareError
from app.care.timing import local_day_bounds
from app.care.views import bp
from app.common.db import utcnow
from app.common.form_flow import show_errors
from app.common.i18n import select_timezone
from app.common.security import form_checks_csrf
from app.extensions import db
from app.reference.queries import get_enclosure, visible_facilities

ROUND_TEMPLATE_GLOBALS = {"EATEN_LABELS": EATEN_LABELS, "KIND_LABELS": KIND_LABELS, "CareKind": CareKind,
                          "new_client_id": new_client_id}


def _is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


@bp.get("/round")
@require("care.view")
def round_page():
    """Today's round at the user's facilities (or one of them): due, overdue, later and done."""
    facility_id = request.args.get("facility_id", type=int)
    now = utcnow()
    day_start, day_end = local_day_bounds(now.astimezone(ZoneInfo(select_timezone())).date(),
                                          ZoneInfo(select_timezone()))
    groups = queries.round_groups(facility_ids=[facility_id] if facility_id else None, day_start=day_start,
                                  day_end=day_end, now=now)
    counts = {"open": sum(g.open_count for g in groups),
              "done": sum(1 for g in groups for _t, state in g.tasks if state == "done")}
    return render_template("care/round.html", groups=groups, counts=counts, facility_id=facility_id,
                           facilities=visible_facilities(), new_task_form=lambda: TaskForm(formdata=None),
                           **ROUND_TEMPLATE_GLOBALS)


def _card(task_id: int, form: TaskForm | None = None, message: str = "", status: int = 200):
    task, _enclosure = queries.round_task(task_id)
    html = render_template("care/_task_card.html", task=task, state=queries.task_state(task, utcnow()),
                           form=form or TaskForm(formdata=None), message=message, **ROUND_TEMPLATE_GLOBALS)
    return html, status


def _back_to_round(anchor: str = ""):
    return redirect(url_for("care.round_page", facility_id=request.args.get("facility_id", type=int)) + anchor)


@bp.post("/round/tasks/<int:task_id>")
@require("care.log")
@form_checks_csrf
def complete_task(task_id: int):
    """Mark a task done; a feeding with the eaten amount tapped, a weighing with its weight."""
    task = queries.get_task(task_id)
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
                              notes=form.notes.data or "", grams=form.grams.data, bcs=form.bcs.data, photo=photo)
        db.session.commit()
    except records.TaskAlreadyDoneError:
        db.session.rollback()
        _discard(photo)
        message = _("Someone else has already done this task.")
        return _card(task_id, message=message) if _is_htmx() else (flash(message, "warning"), _back_to_round())[1]
    except (CareError, AttachmentError) as error:
        db.session.rollback()
        _discard(photo)
        show_errors(form, error.fields)
        return _card(task_id, form, status=422)
    if _is_htmx():
        return _card(task_id)
    return _back_to_round(f"#task-{task_id}")


def _discard(photo) -> None:
    if photo is not None:
        discard_files(photo)


@bp.post("/round/enclosures/<int:enclosure_id>/done")
@require("care.log")
@form_checks_csrf
def complete_enclosure(enclosure_id: int):
    """"All done in this enclosure": every open task due by now there, except weighings."""
    enclosure = get_enclosure(enclosure_id)
    form = EnclosureDoneForm()
    if not form.validate_on_submit():
        flash(_("This page was open a long time and its security check expired. Nothing was saved yet: "
                "tap again."), "warning")
        return _back_to_round(f"#enclosure-{enclosure.id}")
    now = utcnow()
    tasks = queries.enclosure_open_tasks(enclosure.id, now)
    try:
        done = records.complete_enclosure_tasks(enclosure, tasks, user=current_user, client_id=form.client_id.data,
                                                now=now)
        db.session.commit()
    except CareError as error:
        db.session.rollback()
        flash(" ".join(str(m) for messages in error.fields.values() for m in messages), "danger")
        return _back_to_round(f"#enclosure-{enclosure.id}")
    flash(_("%(code)s: %(n)d tasks marked done.", code=enclosure.code, n=done), "success")
    return _back_to_round(f"#enclosure-{enclosure.id}")
