"""The release and outcomes JSON API (API.md, Release and outcomes)."""

from app.api import api_blueprint

criteria_bp = api_blueprint("release_criteria", __name__, "Release checklists of species and taxon classes.")
sites_bp = api_blueprint("release_sites", __name__, "Release sites.")
plans_bp = api_blueprint("release_plans", __name__, "Release plans.")
animal_release_bp = api_blueprint("animal_release", __name__, "An animal's readiness, assessments, outcomes, "
                                                                "observations and transfers.")
