"""Fixtures for veterinary care: a quarantine enclosure, an animal with a weight, a lot, a fixed clock."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.care.models import Weight
from app.extensions import db as _db
from tests import factories

# 2026-06-10 09:30 in Phnom Penh (UTC+7, no daylight saving): the facility's 08:00 dose is past,
# its 20:00 dose is to come.
NOW = datetime(2026, 6, 10, 2, 30, tzinfo=UTC)


@pytest.fixture
def quarantine_enclosure(facility):
    return factories.EnclosureFactory(facility=facility, code="Q-1", name="Quarantine 1", section="Quarantine",
                                      is_quarantine=True)


@pytest.fixture
def yard(facility):
    return factories.EnclosureFactory(facility=facility, code="M-1", name="Macaque yard", section="Primates")


def weigh(animal, grams, *, at=None):
    """Record a weighing of `grams` at `at` (default two days before NOW) and flush it."""
    weight = Weight(animal_id=animal.id, measured_at=at or NOW - timedelta(days=2), grams=Decimal(str(grams)))
    _db.session.add(weight)
    _db.session.flush()
    return weight


@pytest.fixture
def animal(facility, quarantine_enclosure):
    """A long-tailed macaque admitted a week before NOW, in quarantine, weighing 6 kg."""
    case = factories.CaseFactory(facility=facility)
    animal = factories.AnimalFactory(case=case, enclosure_id=quarantine_enclosure.id, name="Srey",
                                     admitted_at=NOW - timedelta(days=7))
    weigh(animal, 6000)
    return animal


@pytest.fixture
def lot(facility, quarantine_enclosure):
    """A lot of 40 box turtles admitted a week before NOW; an average turtle weighs 400 g."""
    case = factories.CaseFactory(facility=facility)
    species = factories.SpeciesFactory(taxon_class="reptile", common_name_en="Amboina box turtle")
    lot = factories.AnimalFactory(case=case, species=species, enclosure_id=quarantine_enclosure.id,
                                  intake_quantity=40, quantity=40, admitted_at=NOW - timedelta(days=7))
    weigh(lot, 400)
    return lot


@pytest.fixture
def signed_in(signed_in):
    """tests/conftest.py's signed_in, signing in a vet unless told otherwise."""
    return lambda role="vet", **kwargs: signed_in(role, **kwargs)
