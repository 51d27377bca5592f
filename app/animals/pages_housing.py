"""Housing pages: the census of enclosures with occupancy, who lives in one enclosure, chain of custody."""

from app.animals.views import bp
from app.auth.permissions import require


@bp.get("/housing")
@require("enclosure.view")
def housing():
    return "todo"


@bp.get("/cases/<int:case_id>/custody")
@require("case.view")
def chain_of_custody(case_id: int):
    return "todo"
