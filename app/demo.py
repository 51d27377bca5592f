"""Demo data for `make run`: a facility, enclosures, species, one user per role, a seizure, its care, its vet
and release sites."""

from datetime import timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from app.animals.services import admit_animals, create_case
from app.auth.models import Facility, User
from app.auth.services import create_user
from app.care.services import create_schedule, generate_care_tasks, save_template
from app.common.db import utcnow
from app.extensions import db
from app.reference.models import Enclosure, Species
from app.reference.seed import seed_species
from app.reference.services import create_enclosure, create_facility
from app.releases.seed import seed_release_criteria
from app.releases.services import save_site
from app.vet.prescriptions import prescribe
from app.vet.seed import seed_quarantine_tests
from app.vet.services import add_lab_result, add_problem, record_exam

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
# Default schedules per taxon class, copied onto animals at intake.
DEMO_TEMPLATES = [
    ("mammal", "feed", ["07:30", "15:30"], [{"food": "Mixed fruit", "grams": 250, "preparation": "chopped"},
                                             {"food": "Leafy greens", "grams": 100, "preparation": ""}]),
    ("bird", "feed", ["07:00", "12:00", "16:00"], [{"food": "Papaya and banana", "grams": 60,
                                                     "preparation": "diced"}]),
    ("reptile", "feed", ["08:00"], [{"food": "Water spinach", "grams": 20, "preparation": "per animal"}]),
]
# (scientific name, quantity, enclosure code): a seizure at the border, in care since yesterday.
DEMO_ANIMALS = [
    ("Macaca fascicularis", 1, "P-01"), ("Macaca fascicularis", 1, "P-01"),
    ("Anthracoceros albirostris", 2, "AV-1"), ("Cuora amboinensis", 40, "Q-T1"),
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
    _seed_care(facility)
    return True


def _seed_care(facility: Facility) -> None:
    """Templates, a demo seizure whose animals get them, cleaning rounds, and today's tasks."""
    now = utcnow()
    for taxon_class, kind, times, diet in DEMO_TEMPLATES:
        save_template(None, {"taxon_class": taxon_class, "kind": kind, "times": times, "diet_items": diet})
    species = dict(db.session.execute(select(Species.scientific_name, Species.id)).all())
    enclosures = {e.code: e for e in db.session.execute(
        select(Enclosure).where(Enclosure.facility_id == facility.id)).scalars()}
    case = create_case(facility=facility, user=None, occurred_at=now - timedelta(days=1),
                       source="enforcement_seizure", agency="Forestry Administration", province="Koh Kong",
                       notes="Demo: animals found in a truck at a checkpoint.")
    rows = [{"species_id": species[name], "quantity": quantity, "enclosure_id": enclosures[code].id}
            for name, quantity, code in DEMO_ANIMALS]
    animals = admit_animals(case, rows, user=None, admitted_at=now - timedelta(hours=20))
    for code in ("P-01", "AV-1", "Q-T1"):
        create_schedule(enclosure=enclosures[code], user=None, now=now - timedelta(hours=12), kind="clean",
                        times=["09:00"], instructions="Scrub, rinse, fresh water and bedding.")
    generate_care_tasks(now)
    _seed_vet(animals[0], now)
    _seed_releases()


def _seed_releases() -> None:
    """The default release checklists and two sites the demo's coordinators can plan for."""
    seed_release_criteria()
    save_site(None, {"name": "Phnom Kulen", "protected_area": "Phnom Kulen National Park", "province": "Siem Reap",
                     "latitude": "13.580000", "longitude": "104.110000",
                     "habitat": "Evergreen and semi-evergreen forest", "suitable_taxa": ["mammal", "bird", "reptile"]})
    save_site(None, {"name": "Koh Kong wetlands", "protected_area": "Peam Krasaop Wildlife Sanctuary",
                     "province": "Koh Kong", "habitat": "Mangrove and freshwater swamp",
                     "suitable_taxa": ["reptile", "bird"]})


def _seed_vet(macaque, now) -> None:
    """The vet's first look at a snared macaque: an exam, a problem, a painkiller course, samples sent."""
    vet = db.session.execute(select(User).where(User.email == "vet@example.org")).scalar_one()
    seed_quarantine_tests()
    record_exam(macaque, user=vet, examined_at=now - timedelta(hours=18), weight_g=5200, bcs=4, temperature_c="38.6",
                findings="Healing snare wound on the left wrist; thin.", assessment="Snare injury, mild weight loss.",
                plan="Meloxicam 5 days, wound care, TB and herpes B screening.", now=now)
    add_problem(macaque, user=vet, diagnosis="Snare wound, left wrist", onset_on=(now - timedelta(days=3)).date(),
                now=now)
    prescribe(macaque, user=vet, drug="Meloxicam", dose_mg_per_kg=Decimal("0.2"),
              concentration_mg_per_ml=Decimal("1.5"), route="PO", frequency="BID", days=5,
              instructions="Give with food.", keeper_may_give=True, now=now)
    for test in ("Tuberculin test", "Herpes B serology", "Faecal parasitology"):
        add_lab_result(macaque, user=vet, test=test, sampled_on=(now - timedelta(hours=18)).date(), now=now)
