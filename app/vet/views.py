"""The vet blueprint: medical records of an animal, the vet dashboard, deaths and quarantine."""

from flask import Blueprint

bp = Blueprint("vet", __name__)
