"""The vet blueprint: medical records of an animal, the vet dashboard, deaths and quarantine."""

from flask import Blueprint

bp = Blueprint("vet", __name__)

from app.vet import pages_records  # noqa: E402, F401

# isort: split
# The dashboard registers its route on bp when imported; on_record adds medical care to the animal record.
from app.vet import on_record, pages_dashboard  # noqa: E402, F401

# isort: split
from app.vet import pages_outcomes, pages_quarantine  # noqa: E402, F401
