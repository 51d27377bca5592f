"""The `animals` blueprint: pages for cases and intake, animals, housing and attachments.

The pages live in one module per area (views_cases, views_animals, views_housing,
views_attachments), imported at the bottom so that they register on this blueprint.
"""

from flask import Blueprint

bp = Blueprint("animals", __name__)

from app.animals import views_animals, views_attachments, views_cases, views_housing  # noqa: E402, F401
