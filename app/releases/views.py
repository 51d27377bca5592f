"""The releases blueprint: readiness and assessments, the planning board, sites, plans, transfers."""

from flask import Blueprint

bp = Blueprint("releases", __name__)

# The pages register their routes on bp when imported; on_record and on_record_actions add to the animal record.
from app.releases import (  # noqa: E402, F401
    on_record,
    on_record_actions,
    pages_board,
    pages_criteria,
    pages_plans,
    pages_readiness,
    pages_sites,
    pages_transfers,
)
