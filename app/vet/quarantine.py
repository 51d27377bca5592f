"""Quarantine: its expected end, the tests it needs, and a vet's clearance. Writes flush; callers commit.

An animal is in quarantine from intake until a vet clears it (Animal.quarantine_cleared_on);
the species' quarantine_days only say when that is expected. Before clearance each
required test (the species' own and its taxon class's, by name) needs a recorded
result: a positive one is recorded and shown, and weighs on releasability, but
quarantine may still end (a herpes B positive macaque leaves quarantine for a
resident's enclosure).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.animals.models import Animal, AnimalStatus
from app.auth.models import Facility, User
from app.common.db import utcnow
from app.extensions import db
from app.reference.models import Species
from app.vet.models import LabResult, QuarantineTest
from app.vet.services import VetError, check_facility


@dataclass
class QuarantineState:
    """One animal's quarantine as read now: expected end, days left, and each required test's state."""

    animal: Animal
    ends_on: date
    days_left: int  # negative: past its expected end
    tests: dict[str, str] = field(default_factory=dict)  # test → missing | pending | negative | positive | inconclusive

    @property
    def missing(self) -> list[str]:
        return [t for t, state in self.tests.items() if state in ("missing", "pending")]


def _norm(test: str) -> str:
    return " ".join(test.lower().split())


def required_tests(species_ids: set[int]) -> dict[int, list[str]]:
    """The tests each species needs before clearance: its own and its taxon class's (one query)."""
    rows = db.session.execute(
        select(Species.id, QuarantineTest.test)
        .join(QuarantineTest, (QuarantineTest.species_id == Species.id)
              | (QuarantineTest.taxon_class == Species.taxon_class))
        .where(Species.id.in_(species_ids)).order_by(QuarantineTest.test)
    ).all()
    tests: dict[int, list[str]] = defaultdict(list)
    for species_id, test in rows:
        if _norm(test) not in {_norm(t) for t in tests[species_id]}:
            tests[species_id].append(test)
    return tests


def _results(animal_ids: list[int]) -> dict[int, dict[str, str]]:
    """Each animal's latest state per test name: its latest interpretation, or pending (one query)."""
    rows = db.session.execute(
        select(LabResult.animal_id, LabResult.test, LabResult.interpretation)
        .where(LabResult.animal_id.in_(animal_ids)).order_by(LabResult.sampled_on, LabResult.id)
    ).all()
    states: dict[int, dict[str, str]] = defaultdict(dict)
    for animal_id, test, interpretation in rows:
        key = _norm(test)
        if interpretation is not None or states[animal_id].get(key) in (None, "pending"):
            states[animal_id][key] = interpretation or "pending"
    return states


def quarantine_states(animals: list[Animal], tz_by_facility: dict[int, ZoneInfo], now: datetime
                      ) -> list[QuarantineState]:
    """The quarantine of each animal not yet cleared (species loaded), in a fixed number of queries."""
    animals = [a for a in animals if a.in_quarantine]
    if not animals:
        return []
    needs = required_tests({a.species_id for a in animals})
    results = _results([a.id for a in animals])
    states = []
    for animal in animals:
        tz = tz_by_facility[animal.facility_id]
        ends_on = animal.admitted_at.astimezone(tz).date() + timedelta(days=animal.species.quarantine_days)
        tests = {t: results[animal.id].get(_norm(t), "missing") for t in needs.get(animal.species_id, [])}
        days_left = (ends_on - now.astimezone(tz).date()).days
        states.append(QuarantineState(animal=animal, ends_on=ends_on, days_left=days_left, tests=tests))
    return states


def quarantine_state(animal: Animal, now: datetime | None = None) -> QuarantineState | None:
    """One animal's quarantine (its species loaded), or None once cleared."""
    tz = ZoneInfo(db.session.get(Facility, animal.facility_id).timezone)
    states = quarantine_states([animal], {animal.facility_id: tz}, now or utcnow())
    return states[0] if states else None


def clear_quarantine(animal: Animal, *, user: User | None, cleared_on: date | None = None, notes: str = "",
                     now: datetime | None = None) -> Animal:
    """A vet ends the animal's quarantine. Every required test needs a result first (any interpretation)."""
    now = now or utcnow()
    check_facility(user, animal)
    if animal.status != AnimalStatus.IN_CARE:
        raise VetError({"animal": [_("%(animal)s has left care.", animal=animal.accession_number)]})
    if animal.quarantine_cleared_on is not None:
        raise VetError({"cleared_on": [_("Quarantine was already cleared on %(day)s.",
                                         day=animal.quarantine_cleared_on.isoformat())]})
    tz = ZoneInfo(db.session.get(Facility, animal.facility_id).timezone)
    today = now.astimezone(tz).date()
    cleared_on = cleared_on or today
    errors = {}
    if cleared_on > today:
        errors["cleared_on"] = [_("This date is in the future.")]
    elif cleared_on < animal.admitted_at.astimezone(tz).date():
        errors["cleared_on"] = [_("This is before the animal was admitted.")]
    animal_species = db.session.get(Species, animal.species_id)
    needed = required_tests({animal_species.id}).get(animal_species.id, [])
    results = _results([animal.id]).get(animal.id, {})
    missing = [t for t in needed if results.get(_norm(t), "pending") == "pending"]
    if missing:
        errors["tests"] = [_("Results are still missing for: %(tests)s. Record them before clearing quarantine.",
                             tests=", ".join(missing))]
    if errors:
        raise VetError(errors)
    animal.quarantine_cleared_on = cleared_on
    animal.quarantine_cleared_by_id = user.id if user else None
    animal.quarantine_notes = (notes or "").strip()
    db.session.flush()
    return animal


# --- the tests each species needs ------------------------------------------------------------

def add_quarantine_test(*, test: str, species_id: int | None = None, taxon_class: str | None = None
                        ) -> QuarantineTest:
    test = " ".join((test or "").split())[:120]
    errors = {}
    if not test:
        errors["test"] = [_("Name the test.")]
    if (species_id is None) == (not taxon_class):
        errors["species_id"] = [_("Choose a species or a taxon class, not both.")]
    if errors:
        raise VetError(errors)
    exists = db.session.execute(
        select(func.count()).select_from(QuarantineTest).where(
            QuarantineTest.species_id.is_(None) if species_id is None else QuarantineTest.species_id == species_id,
            QuarantineTest.taxon_class.is_(None) if not taxon_class else QuarantineTest.taxon_class == taxon_class,
            func.lower(QuarantineTest.test) == test.lower())
    ).scalar_one()
    if exists:
        raise VetError({"test": [_("This test is already required.")]})
    row = QuarantineTest(test=test, species_id=species_id, taxon_class=taxon_class or None)
    db.session.add(row)
    db.session.flush()
    return row


def remove_quarantine_test(row: QuarantineTest) -> None:
    db.session.delete(row)  # through the ORM, so the audit log keeps what was required
    db.session.flush()
