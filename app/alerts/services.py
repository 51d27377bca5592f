"""A person acknowledging or resolving an alert. Writes flush; callers commit.

Both are conditional UPDATEs: two people (or a person and a job) acting at the same
moment cannot overwrite each other's who and when.
"""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import update

from app.alerts.models import Alert, AlertStatus
from app.auth.models import User
from app.common.db import utcnow
from app.common.errors import RuleError
from app.extensions import db


class AlertError(RuleError):
    """An alert that cannot take this change: it is already resolved."""

    def __init__(self, alert: Alert):
        self.alert = alert
        super().__init__({"status": [_("This alert is already resolved.")]})


def _change(alert: Alert, condition, values: dict) -> bool:
    """Apply `values` if `condition` still holds; the alert is read again either way. True when changed."""
    changed = db.session.execute(update(Alert).where(Alert.id == alert.id, condition).values(**values)
                                 .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(alert)
    return changed == 1


def acknowledge_alert(alert: Alert, *, user: User, now: datetime | None = None) -> Alert:
    """Seen and being dealt with: it leaves the new count but stays until resolved. Again: no change."""
    _change(alert, Alert.status == AlertStatus.OPEN, {
        "status": AlertStatus.ACKNOWLEDGED, "acknowledged_at": now or utcnow(), "acknowledged_by_id": user.id})
    if alert.status == AlertStatus.RESOLVED:
        raise AlertError(alert)
    return alert


def resolve_alert(alert: Alert, *, user: User, now: datetime | None = None) -> Alert:
    """Dealt with, by hand: the job will not raise the same key (the same episode) again."""
    if not _change(alert, Alert.status != AlertStatus.RESOLVED, {
            "status": AlertStatus.RESOLVED, "resolved_at": now or utcnow(), "resolved_by_id": user.id}):
        raise AlertError(alert)
    return alert
