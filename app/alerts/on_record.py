"""What alerts add to an animal's record: under its header, the unresolved alerts about it the user may see.

One query whatever the number of alerts (alerts_stmt with its subjects loaded, a window
count for the "N more" line), and none for a role that sees no alerts. Nothing is
shown when there is nothing to act on.
"""

from flask import request
from sqlalchemy import func

from app.alerts.pages_inbox import alert_helpers
from app.alerts.queries import alerts_stmt
from app.animals.models import Animal
from app.animals.panels import Panel, record_panel
from app.auth.permissions import can
from app.extensions import db

MAX_ON_RECORD = 20


@record_panel(order=5)
def _alert_panel(animal: Animal) -> list[Panel]:
    if not can("alert.view"):
        return []
    rows = db.session.execute(
        alerts_stmt(animal_id=animal.id).add_columns(func.count().over()).limit(MAX_ON_RECORD)).all()
    if not rows:
        return []
    alerts = [row[0] for row in rows]
    return [Panel("alerts/_record_alerts.html", {
        "animal": animal, "alerts": alerts, "more": rows[0][1] - len(alerts), "here": request.path,
        "h": alert_helpers(),
    }, place="top")]
