"""Fixtures for intake tests: bearer headers per role, a seizure case, catalogue species."""

import pytest

from tests import factories


@pytest.fixture
def bearer(client, make_user):
    """bearer(role, **user_kwargs) -> Authorization headers of a new user with that role."""

    def _bearer(role="coordinator", **kwargs):
        user = make_user(role, **kwargs)
        response = client.post("/api/v1/auth/tokens", json={"email": user.email,
                                                           "password": factories.DEFAULT_PASSWORD})
        return {"Authorization": f"Bearer {response.json['token']}"}

    return _bearer


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
