"""Fixtures for releases: the default checklists, a site, a macaque that is ready and a lot of 50 turtles."""

from datetime import timedelta
from decimal import Decimal

import pytest

from app.care.models import Weight
from app.common.db import utcnow
from app.extensions import db as _db
from app.releases.models import Assessment, ReleaseSite
from app.releases.seed import seed_release_criteria
from tests import factories


@pytest.fixture
def criteria(db):
    """The default checklists of mammals, birds and reptiles."""
    return seed_release_criteria()


def weigh(animal, grams, bcs=5, *, at=None):
    _db.session.add(Weight(animal_id=animal.id, measured_at=at or utcnow() - timedelta(days=1),
                           grams=Decimal(str(grams)), bcs=bcs))
    _db.session.flush()


def assess(animal, key, result="pass", *, at=None, expires_days=30):
    """A manual assessment, as app.releases.services.record_assessment would store it."""
    at = at or utcnow() - timedelta(hours=1)
    _db.session.add(Assessment(animal_id=animal.id, facility_id=animal.facility_id, criterion_key=key,
                               result=result, assessed_at=at, expires_at=at + timedelta(days=expires_days)))
    _db.session.flush()


MACAQUE_MANUAL = ("forages_natural_food", "avoids_humans", "climbs_well")


@pytest.fixture
def site(db):
    return ReleaseSite(name="Phnom Kulen", protected_area="Phnom Kulen National Park", province="Siem Reap",
                       latitude=Decimal("13.580000"), longitude=Decimal("104.110000"), habitat="Evergreen forest",
                       suitable_taxa=["mammal", "reptile"])


@pytest.fixture
def ready_macaque(db, facility, criteria, site):
    """A long-tailed macaque meeting every default mammal criterion (quarantine cleared, BCS 5, assessed)."""
    _db.session.add(site)
    case = factories.CaseFactory(facility=facility)
    macaque = factories.AnimalFactory(case=case, name="Srey", admitted_at=utcnow() - timedelta(days=120),
                                      quarantine_cleared_on=(utcnow() - timedelta(days=60)).date())
    weigh(macaque, 5200, bcs=5)
    for key in MACAQUE_MANUAL:
        assess(macaque, key)
    return macaque


@pytest.fixture
def turtles(db, facility, criteria):
    """A lot of 50 Amboina box turtles meeting the reptile checklist."""
    case = factories.CaseFactory(facility=facility)
    species = factories.SpeciesFactory(taxon_class="reptile", common_name_en="Amboina box turtle")
    lot = factories.AnimalFactory(case=case, species=species, intake_quantity=50, quantity=50,
                                  admitted_at=utcnow() - timedelta(days=90),
                                  quarantine_cleared_on=(utcnow() - timedelta(days=30)).date())
    weigh(lot, 400, bcs=5)
    assess(lot, "feeds_unassisted")
    return lot
