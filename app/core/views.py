"""Home page (each role's start) and /healthz."""

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from app.extensions import db, limiter

bp = Blueprint("core", __name__)


@bp.get("/")
@login_required
def home():
    """Each role's start: the census of the user's facilities and the ways in."""
    from app.animals.queries import census

    if current_user.role == "keeper":
        return redirect(url_for("care.round_page"))  # the round is the keeper's home
    return render_template("core/home.html", census=census())


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """200 when the database answers a query, 503 otherwise (for load balancers and monitors)."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        db.session.rollback()
        return jsonify({"status": "unavailable"}), 503
    return jsonify({"status": "ok"})


@bp.get("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"))


