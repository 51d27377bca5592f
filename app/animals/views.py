"""The `animals` blueprint: pages for cases and intake, animals, housing and attachments.

The pages live in one module per area, imported at the bottom so that they
register on this blueprint.
"""

from flask import Blueprint

bp = Blueprint("animals", __name__)

from app.animals import (  # noqa: E402, F401
    pages_animals,
    pages_cases,
    pages_housing,
    pages_intake,
    views_attachments,
)
