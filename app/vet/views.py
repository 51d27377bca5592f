"""The vet blueprint: medical records of an animal, the vet dashboard, deaths and quarantine."""

from flask import Blueprint

bp = Blueprint("vet", __name__)

# The pages register their routes on bp when imported; on_record adds the medical section to the animal record.
from app.vet import on_record, pages_dashboard, pages_outcomes, pages_quarantine, pages_records  # noqa: E402, F401
