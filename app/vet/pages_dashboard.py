"""The vet dashboard page: quarantine, active problems, today's doses and pending lab results at my facilities."""

from flask import abort, render_template, request

from app.auth.permissions import require
from app.common.db import utcnow
from app.reference.queries import visible_facilities
from app.vet import dashboard as reads
from app.vet.views import bp


@bp.get("/vet")
@require("vet.dashboard")
def dashboard():
    """What needs a vet today, at all the user's facilities or the one chosen (?facility_id=)."""
    facilities = visible_facilities()
    facility_id = request.args.get("facility_id", type=int)
    shown = facilities
    if facility_id:
        shown = [f for f in facilities if f.id == facility_id]
        if not shown:
            abort(404)  # another facility's: not the user's to know of
    now = utcnow()
    return render_template("vet/dashboard.html", facilities=facilities, facility_id=facility_id, now=now,
                           **reads.vet_dashboard(shown, now))
