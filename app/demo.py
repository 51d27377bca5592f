"""Demo data for `make run`: a facility, enclosures, species and one user per role."""

from flask import current_app
from sqlalchemy import select

from app.auth.models import Facility
from app.auth.services import create_user
from app.extensions import db
from app.reference.seed import seed_species
from app.reference.services import create_enclosure, create_facility

DEMO_FACILITY = "PTK"
DEMO_ENCLOSURES = [
    ("Q-A1", "Quarantine A1", "Quarantine block A", "cage", 4, True),
    ("Q-A2", "Quarantine A2", "Quarantine block A", "cage", 4, True),
    ("Q-T1", "Turtle quarantine tanks", "Quarantine block A", "tank", 300, True),
    ("P-01", "Primate run 1", "Primate section", "forest_enclosure", 12, False),
    ("B-01", "Bear forest 1", "Bear section", "forest_enclosure", 6, False),
    ("AV-1", "Hornbill aviary", "Bird section", "aviary", 10, False),
    ("R-P1", "Turtle ponds", "Reptile section", "pond", 500, False),
    ("CL-1", "Clinic ward", "Clinic", "clinic", 8, False),
]
DEMO_USERS = [
    ("admin@example.org", "Sokha Admin", "admin"),
    ("coordinator@example.org", "Dara Coordinator", "coordinator"),
    ("vet@example.org", "Dr Chenda Vet", "vet"),
    ("keeper@example.org", "Vuthy Keeper", "keeper"),
    ("viewer@example.org", "Partner Viewer", "viewer"),
]


def seed_demo(password: str | None = None) -> bool:
    """Create the demo set unless its facility exists already; True when something was made. Flushes."""
    if db.session.execute(select(Facility.id).where(Facility.code == DEMO_FACILITY)).first():
        return False
    password = password or current_app.config["SEED_DEMO_PASSWORD"]
    seed_species()
    facility = create_facility(code=DEMO_FACILITY, name="Phnom Tamao Wildlife Rescue Centre (demo)",
                               kind="rescue_centre", province="Takeo", timezone="Asia/Phnom_Penh")
    for code, name, section, kind, capacity, quarantine in DEMO_ENCLOSURES:
        create_enclosure(facility_id=facility.id, code=code, name=name, section=section, kind=kind,
                         capacity=capacity, is_quarantine=quarantine)
    for email, name, role in DEMO_USERS:
        facility_ids = [] if role in ("admin", "coordinator") else [facility.id]
        create_user(email=email, name=name, role=role, password=password, facility_ids=facility_ids)
    return True
