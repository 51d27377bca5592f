"""Pages for cases: list, record a seizure, edit, detail, evidence hold, custody, intake table, import."""

from app.animals.views import bp
from app.auth.permissions import require


@bp.get("/cases")
@require("case.view")
def cases():
    return "todo"
