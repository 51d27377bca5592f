"""Fixtures for daily care: an enclosure with an animal and a lot, and a fixed clock."""

from datetime import UTC, datetime

import pytest

from tests import factories

# 2026-06-10 09:30 in Phnom Penh (UTC+7, no daylight saving).
NOW = datetime(2026, 6, 10, 2, 30, tzinfo=UTC)


@pytest.fixture
def enclosure(facility):
    return factories.EnclosureFactory(facility=facility, code="M-1", name="Macaque yard", section="Primates")


@pytest.fixture
def animal(facility, enclosure):
    case = factories.CaseFactory(facility=facility)
    return factories.AnimalFactory(case=case, enclosure_id=enclosure.id, name="Srey")


@pytest.fixture
def lot(facility, enclosure):
    case = factories.CaseFactory(facility=facility)
    species = factories.SpeciesFactory(taxon_class="reptile", common_name_en="Amboina box turtle")
    return factories.AnimalFactory(case=case, species=species, enclosure_id=enclosure.id, intake_quantity=50)
