"""The alert inbox: the kinds of alert the user's role is for, at the user's facilities; acknowledging and
resolving one; and the navigation's badge of new alerts.

The list reads with a fixed number of queries whatever its length: the page's COUNT and
rows (alerts_stmt loads every subject the row shows), and the facilities of the filter
for network-wide roles. The badge is one COUNT, made only when a page draws the
navigation, and at most once per request (cached in flask.g).
Acknowledge and resolve are POST buttons that commit once and redirect back where the
button was (a path within the site, else the inbox) with a flash; an alert already
resolved says so and by whom, it is never an error page.
"""


from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user

from app.alerts.kinds import KINDS, SEVERITY_LABELS, kinds_for
from app.alerts.messages import message_for
from app.alerts.models import Alert, AlertStatus
from app.alerts.queries import UNRESOLVED, alerts_stmt, get_alert, new_alert_count
from app.alerts.services import AlertError, acknowledge_alert, resolve_alert
from app.alerts.views import bp
from app.auth.permissions import require
from app.common.filters import localtime
from app.common.pagination import paginate
from app.common.security import is_local_path
from app.extensions import db
from app.reference.queries import visible_facilities
from app.reference.views import page_arg, per_page_arg

# An alert's "resolved", not a medical problem's (the same English word, another in Khmer).
RESOLVED = lazy_pgettext("alert status", "Resolved")
# The inbox's status filter; "open" alerts are the new ones, not yet acknowledged.
STATUS_FILTERS = {
    UNRESOLVED: _l("Unresolved"),
    AlertStatus.OPEN.value: _l("New"),
    AlertStatus.ACKNOWLEDGED.value: _l("Acknowledged"),
    AlertStatus.RESOLVED.value: RESOLVED,
    "all": _l("All"),
}
STATUS_LABELS = {AlertStatus.OPEN.value: _l("New"), AlertStatus.ACKNOWLEDGED.value: _l("Acknowledged"),
                 AlertStatus.RESOLVED.value: RESOLVED}


# --- what a row shows (the inbox and the animal record's panel) ---------------------------------

def round_card_url(alert: Alert) -> str | None:
    """The task's card on the keeper's round (its enclosure's page, or the unhoused animals' page)."""
    task = alert.task
    if task is None:
        return None
    enclosure_id = task.enclosure_id or (alert.animal.enclosure_id if alert.animal is not None else None)
    url = (url_for("care.round_enclosure", enclosure_id=enclosure_id) if enclosure_id
           else url_for("care.round_unhoused"))
    return f"{url}#task-{task.id}"


def subject_links(alert: Alert) -> list[tuple[str, str]]:
    """(label, url) of what the alert is about: the animal's record, the case page, the round card of a task."""
    links = []
    if alert.animal is not None:
        animal = alert.animal
        label = f"{animal.accession_number} ({animal.name})" if animal.name else animal.accession_number
        links.append((label, url_for("animals.animal_record", animal_id=animal.id)))
    elif alert.case is not None:
        links.append((alert.case.reference, url_for("animals.case_detail", case_id=alert.case.id)))
    if (card := round_card_url(alert)) is not None:
        links.append((_("Round card"), card))
    return links


def alert_helpers() -> dict:
    """What templates/alerts/_alert.html needs besides the alerts: labels and the functions of a row."""
    return {"kind_labels": {name: kind.label for name, kind in KINDS.items()}, "status_labels": STATUS_LABELS,
            "severity_labels": SEVERITY_LABELS, "alert_message": message_for, "subject_links": subject_links,
            "round_card_url": round_card_url}


# --- the navigation's badge -----------------------------------------------------------------------

def new_alert_badge() -> int:
    """The count of new alerts for the navigation: one COUNT the first time a page asks in a request."""
    if "new_alert_badge" not in g:
        g.new_alert_badge = new_alert_count()
    return g.new_alert_badge


@bp.app_context_processor
def _navigation_helpers() -> dict:
    # A function, not the count: a page that draws no navigation (or a viewer's) makes no query.
    return {"new_alert_badge": new_alert_badge}


# --- the inbox ------------------------------------------------------------------------------------

def _facilities():
    # A keeper's facilities come with the user; only network-wide roles need a query.
    return current_user.facilities if current_user.facility_ids is not None else visible_facilities()


def _here() -> str:
    """This page's path and query, for the buttons to come back to."""
    return request.full_path.rstrip("?")


@bp.get("/alerts")
@require("alert.view")
def inbox():
    """Unresolved alerts by default, worst and newest first; by status, kind (the role's) and facility."""
    status = request.args.get("status", UNRESOLVED)
    status = status if status in STATUS_FILTERS else UNRESOLVED
    kinds = kinds_for(current_user.role)
    kind = request.args.get("kind", "")
    kind = kind if kind in kinds else ""
    facilities = _facilities()
    facility_id = request.args.get("facility_id", type=int)
    facility_id = facility_id if facility_id in {f.id for f in facilities} else None
    stmt = alerts_stmt(status=None if status == "all" else status, kind=kind or None, facility_id=facility_id)
    page = paginate(stmt, page_arg(), per_page_arg())
    return render_template("alerts/inbox.html", page=page, status=status, kind=kind, facility_id=facility_id,
                           kinds=[KINDS[name] for name in kinds], facilities=facilities,
                           status_filters=STATUS_FILTERS, here=_here(), h=alert_helpers())


# --- acknowledge and resolve ----------------------------------------------------------------------

def _back() -> str:
    """The form's `next` when it is a path of this site, else the inbox."""
    target = request.form.get("next", "")
    return target if is_local_path(target) else url_for("alerts.inbox")


def _already_resolved(alert: Alert) -> str:
    if alert.resolved_by is not None:
        return _("This alert was already resolved by %(name)s on %(time)s.", name=alert.resolved_by.name,
                 time=localtime(alert.resolved_at))
    return _("This alert was already resolved on %(time)s: what it was about has cleared.",
             time=localtime(alert.resolved_at))


def _apply(change, alert: Alert, done: str):
    """Run one service call on the alert and commit; a refusal (resolved meanwhile) is a flash, not an error."""
    if alert.status == AlertStatus.RESOLVED:
        flash(_already_resolved(alert), "warning")
        return redirect(_back())
    try:
        change(alert, user=current_user._get_current_object())
        db.session.commit()
    except AlertError as error:
        db.session.rollback()
        flash(" ".join(str(m) for messages in error.fields.values() for m in messages), "warning")
    else:
        flash(done, "success")
    return redirect(_back())


@bp.post("/alerts/<int:alert_id>/acknowledge")
@require("alert.handle")
def acknowledge(alert_id: int):
    """Seen and being dealt with: the alert leaves the count of new ones and stays in the list."""
    alert = get_alert(alert_id)
    if alert.status == AlertStatus.ACKNOWLEDGED:
        flash(_("This alert was already acknowledged by %(name)s.",
                name=alert.acknowledged_by.name if alert.acknowledged_by else "—"), "info")
        return redirect(_back())
    return _apply(acknowledge_alert, alert,
                  _("Alert acknowledged. It stays in the list until it is resolved or what it is about clears."))


@bp.post("/alerts/<int:alert_id>/resolve")
@require("alert.handle")
def resolve(alert_id: int):
    """Dealt with, by hand: the same episode is not raised again."""
    alert = get_alert(alert_id)
    return _apply(resolve_alert, alert, _("Alert resolved. It will not be raised again for the same episode."))
