"""The releases blueprint: readiness and assessments, the planning board, sites, plans, transfers."""

from flask import Blueprint

bp = Blueprint("releases", __name__)

from app.releases import on_record_actions, pages_transfers  # noqa: E402, F401

# isort: split
from app.releases import on_record, pages_criteria, pages_readiness, pages_sites  # noqa: E402, F401

# isort: split
from app.releases import pages_board, pages_plans  # noqa: E402, F401
