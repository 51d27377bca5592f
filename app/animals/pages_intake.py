"""The intake table (many rows at once, all or none) and the spreadsheet import."""

from app.animals.views import bp
from app.auth.permissions import require


@bp.get("/cases/<int:case_id>/intake")
@require("animal.admit")
def intake(case_id: int):
    return "todo"
