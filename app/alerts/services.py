"""A person acknowledging or resolving an alert. Writes flush; callers commit."""

from datetime import datetime

from flask_babel import gettext as _

from app.alerts.models import Alert, AlertStatus
from app.auth.models import User
from app.common.db import utcnow
from app.common.errors import RuleError
from app.extensions import db


class AlertError(RuleError):
    """An alert that cannot take this change (already resolved)."""


def acknowledge_alert(alert: Alert, *, user: User, now: datetime | None = None) -> Alert:
    """Seen and being dealt with: it leaves the new count but stays until resolved. Again: no change."""
    if alert.status == AlertStatus.RESOLVED:
        raise AlertError({"status": [_("This alert is already resolved.")]})
    if alert.status == AlertStatus.OPEN:
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at = now or utcnow()
        alert.acknowledged_by_id = user.id
        db.session.flush()
    return alert


def resolve_alert(alert: Alert, *, user: User, now: datetime | None = None) -> Alert:
    """Dealt with, by hand: the job will not raise the same key (the same episode) again."""
    if alert.status == AlertStatus.RESOLVED:
        raise AlertError({"status": [_("This alert is already resolved.")]})
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = now or utcnow()
    alert.resolved_by_id = user.id
    db.session.flush()
    return alert
