"""Pages for facilities, enclosures and the species catalogue."""

from flask import Blueprint

from app.auth.permissions import require

bp = Blueprint("reference", __name__)


@bp.get("/enclosures")
@require("enclosure.view")
def enclosures():
    return "todo"


@bp.get("/species")
@require("species.view")
def species_list():
    return "todo"


@bp.get("/facilities")
@require("facility.view")
def facilities():
    return "todo"
