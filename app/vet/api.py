"""The veterinary JSON API (API.md, Veterinary): exams, problems, prescriptions, lab results, quarantine."""

from flask_smorest import Blueprint

animal_records_bp = Blueprint("vet_records", __name__, description="An animal's medical records.")
problems_bp = Blueprint("problems", __name__, description="Problem list entries.")
prescriptions_bp = Blueprint("prescriptions", __name__, description="Prescriptions.")
