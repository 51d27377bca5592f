"""Facilities, enclosures and species over the API: search, scoping, versions, query counts."""

import pytest

from tests import factories


@pytest.fixture
def catalogue(db):
    return [
        factories.SpeciesFactory(scientific_name="Helarctos malayanus", common_name_en="Sun bear",
                                 common_name_km="ខ្លាឃ្មុំ"),
        factories.SpeciesFactory(scientific_name="Nycticebus bengalensis", common_name_en="Bengal slow loris",
                                 common_name_km="ថ្មកែវ"),
        factories.SpeciesFactory(scientific_name="Macaca fascicularis", common_name_en="Long-tailed macaque"),
    ]


@pytest.mark.parametrize(("q", "expected"), [
    ("sun bear", "Helarctos malayanus"),
    ("SUN BEAR", "Helarctos malayanus"),
    ("ខ្លាឃ្មុំ", "Helarctos malayanus"),
    ("nycticebus", "Nycticebus bengalensis"),
    ("Nyctícebus BENGALÉNSIS", "Nycticebus bengalensis"),
    ("slow lorís", "Nycticebus bengalensis"),
    ("long-tailed", "Macaca fascicularis"),
])
def test_species_search_by_any_name(client, bearer, catalogue, q, expected):
    response = client.get("/api/v1/species", query_string={"q": q}, headers=bearer("keeper"))
    assert response.status_code == 200
    assert [s["scientific_name"] for s in response.json["items"]] == [expected]


def test_species_list_query_count_is_the_same_for_1_and_80(client, bearer, db, count_queries):
    headers = bearer("viewer")
    client.get("/api/v1/auth/me", headers=headers)  # first use of a token records last_used_at
    factories.SpeciesFactory()
    with count_queries() as one:
        assert client.get("/api/v1/species?per_page=200", headers=headers).json["meta"]["total"] == 1
    factories.SpeciesFactory.create_batch(79)
    with count_queries() as eighty:
        assert client.get("/api/v1/species?per_page=200", headers=headers).json["meta"]["total"] == 80
    assert one.count == eighty.count


def test_only_admins_change_the_catalogue(client, bearer, catalogue):
    body = {"scientific_name": "Pavo muticus", "common_name_en": "Green peafowl", "taxon_class": "bird"}
    for role in ("coordinator", "vet", "keeper", "viewer"):
        response = client.post("/api/v1/species", json=body, headers=bearer(role))
        assert response.status_code == 403
        assert response.json["error"]["code"] == "forbidden"
    assert client.post("/api/v1/species", json=body, headers=bearer("admin")).status_code == 201


def test_species_validation_errors_name_the_fields(client, bearer):
    body = {"scientific_name": "X", "common_name_en": "", "taxon_class": "dragon", "quarantine_days": "30"}
    response = client.post("/api/v1/species", json=body, headers=bearer("admin"))
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"scientific_name", "common_name_en", "taxon_class",
                                                      "quarantine_days"}


def test_a_species_may_set_its_usual_stay_before_release(client, bearer):
    body = {"scientific_name": "Cuora amboinensis", "common_name_en": "Amboina box turtle", "taxon_class": "reptile"}
    created = client.post("/api/v1/species", json={**body, "expected_stay_days": 60}, headers=bearer("admin"))
    assert created.status_code == 201 and created.json["expected_stay_days"] == 60
    refused = client.post("/api/v1/species", json={**body, "scientific_name": "Cuora mouhotii",
                                                   "expected_stay_days": 0}, headers=bearer("admin"))
    assert refused.status_code == 422 and "expected_stay_days" in refused.json["error"]["fields"]


def test_duplicate_species_is_422_with_field_message(client, bearer, catalogue):
    body = {"scientific_name": "Helarctos malayanus", "common_name_en": "Sun bear", "taxon_class": "mammal"}
    response = client.post("/api/v1/species", json=body, headers=bearer("admin"))
    assert response.status_code == 422
    assert "scientific_name" in response.json["error"]["fields"]


def test_stale_version_is_409_with_the_current_record(client, bearer, catalogue):
    headers = bearer("admin")
    species = catalogue[0]
    first = client.patch(f"/api/v1/species/{species.id}", json={"version": 1, "quarantine_days": 40}, headers=headers)
    assert first.status_code == 200 and first.json["version"] == 2
    stale = client.patch(f"/api/v1/species/{species.id}", json={"version": 1, "quarantine_days": 50}, headers=headers)
    assert stale.status_code == 409
    assert stale.json["error"]["code"] == "conflict"
    assert stale.json["error"]["current"]["quarantine_days"] == 40


def test_keeper_sees_only_own_facility_and_gets_404_for_others(client, bearer, facility, other_facility):
    here = factories.EnclosureFactory(facility=facility, code="HERE")
    there = factories.EnclosureFactory(facility=other_facility, code="THERE")
    headers = bearer("keeper")
    listed = client.get("/api/v1/enclosures", headers=headers).json["items"]
    assert [e["code"] for e in listed] == ["HERE"]
    assert client.get(f"/api/v1/enclosures/{here.id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/enclosures/{there.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/facilities/{other_facility.id}", headers=headers).status_code == 404
    facilities = client.get("/api/v1/facilities", headers=headers).json
    assert [f["code"] for f in facilities["items"]] == ["PTK"]
    assert facilities["meta"] == {"page": 1, "per_page": 50, "total": 1}


def test_network_wide_coordinator_sees_every_facility(client, bearer, facility, other_facility):
    facilities = client.get("/api/v1/facilities", headers=bearer("coordinator")).json["items"]
    assert {f["code"] for f in facilities} == {"PTK", "KOH"}


def test_enclosure_code_is_unique_per_facility(client, bearer, facility):
    headers = bearer("admin")
    body = {"facility_id": facility.id, "code": "Q-1", "name": "Quarantine 1"}
    assert client.post("/api/v1/enclosures", json=body, headers=headers).status_code == 201
    response = client.post("/api/v1/enclosures", json=body, headers=headers)
    assert response.status_code == 422
    assert "code" in response.json["error"]["fields"]


def test_per_page_is_capped_at_200(client, bearer):
    response = client.get("/api/v1/species?per_page=201", headers=bearer("viewer"))
    assert response.status_code == 422
    assert "per_page" in response.json["error"]["fields"]
