"""Housing pages: the census of enclosures with occupancy, and who lives in one enclosure."""

from app.animals.views import bp
from app.auth.permissions import require


@bp.get("/housing")
@require("enclosure.view")
def housing():
    return "todo"
