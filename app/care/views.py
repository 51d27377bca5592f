"""The care blueprint: the keeper's round, care logs and weights, schedules and templates."""

from flask import Blueprint

bp = Blueprint("care", __name__)

# The pages register their routes on bp when imported; on_record adds care to the animal record.
from app.care import on_record, pages_records, pages_round, pages_schedules  # noqa: E402, F401
