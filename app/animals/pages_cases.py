"""Pages for cases: list, record a seizure, edit, detail with evidence hold and custody."""

from app.animals.views import bp
from app.auth.permissions import require


@bp.get("/cases")
@require("case.view")
def cases():
    return "todo"


@bp.get("/cases/<int:case_id>")
@require("case.view")
def case_detail(case_id: int):
    return "todo"
