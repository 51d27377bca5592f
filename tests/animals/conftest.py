"""Fixtures for intake tests: a seizure case, catalogue species, a quarantine enclosure."""

import pytest

from tests import factories


@pytest.fixture
def species(db):
    return {
        "turtle": factories.SpeciesFactory(scientific_name="Cuora amboinensis", common_name_en="Amboina box turtle",
                                           taxon_class="reptile"),
        "macaque": factories.SpeciesFactory(scientific_name="Macaca fascicularis",
                                            common_name_en="Long-tailed macaque", quarantine_days=90),
        "pangolin": factories.SpeciesFactory(scientific_name="Manis javanica", common_name_en="Sunda pangolin"),
    }


@pytest.fixture
def quarantine(facility):
    return factories.EnclosureFactory(facility=facility, code="Q-1", name="Quarantine 1", is_quarantine=True,
                                      capacity=60)


@pytest.fixture
def case(db, facility):
    return factories.CaseFactory(facility=facility)
