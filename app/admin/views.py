"""User administration and the audit log browser."""

from flask import Blueprint

from app.auth.permissions import require

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@require("user.manage")
def users():
    return "todo"


@bp.get("/audit")
@require("audit.view")
def audit_log():
    return "todo"
