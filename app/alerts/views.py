"""The alerts blueprint: the inbox with its acknowledge and resolve buttons, the record's alert panel, job runs."""

from flask import Blueprint

bp = Blueprint("alerts", __name__)

# The pages register their routes on bp when imported; on_record adds the alert panel to the animal record.
from app.alerts import on_record, pages_inbox, pages_job_runs  # noqa: E402, F401
