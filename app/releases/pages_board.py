"""The coordinators' release planning board: ready now, one criterion short, stalled; tick animals to plan a release.

A fixed number of queries whatever the number of candidates (app.releases.planning
reads them with species and enclosure, readiness one query per kind of fact, and
one more for what of each is already in open plans).
"""

from flask import abort, render_template, request

from app.auth.permissions import require
from app.common.db import utcnow
from app.reference.queries import visible_facilities
from app.releases import queries
from app.releases.planning import expected_stay_days, planning_board
from app.releases.views import bp


@bp.get("/releases")
@require("release.view")
def board():
    """Animals in care that may go back to the wild, at all the user's facilities or the one chosen (?facility_id=)."""
    facilities = visible_facilities()
    facility_id = request.args.get("facility_id", type=int)
    if facility_id and not any(f.id == facility_id for f in facilities):
        abort(404)  # another facility's: not the user's to know of
    now = utcnow()
    result = planning_board(facility_id=facility_id or None, now=now)
    states = [*result.ready, *result.one_short, *result.stalled]
    planned = queries.planned_elsewhere(list({s.animal.id for s in states}))
    stays = {s.animal.id: expected_stay_days(s.animal) for s in result.stalled}
    return render_template("releases/board.html", board=result, facilities=facilities, facility_id=facility_id,
                           planned=planned, stays=stays, now=now)
