"""The releases blueprint: readiness and assessments, the planning board, sites, plans, transfers."""

from flask import Blueprint

bp = Blueprint("releases", __name__)
