"""The housing census, an enclosure's occupants, and the printable chain of custody."""

from app.animals import services
from app.common.db import utcnow
from tests import factories


def test_census_shows_occupancy_and_warns_over_capacity(client, login, case, species, facility, other_facility):
    small = factories.EnclosureFactory(facility=facility, code="SMALL", capacity=2)
    services.admit_animals(case, [{"species_id": species["turtle"].id, "quantity": 5, "enclosure_id": small.id}],
                           user=None)
    factories.EnclosureFactory(facility=other_facility, code="ELSEWHERE")
    login("keeper")
    html = client.get("/housing").get_data(as_text=True)
    assert "SMALL" in html and 'data-testid="over-capacity"' in html
    assert "ELSEWHERE" not in html
    html = client.get(f"/housing/{small.id}").get_data(as_text=True)
    assert html.count('data-testid="occupant-row"') == 1 and "over capacity" in html


def test_enclosure_page_of_another_facility_is_404(client, login, other_facility):
    elsewhere = factories.EnclosureFactory(facility=other_facility)
    login("keeper")
    assert client.get(f"/housing/{elsewhere.id}").status_code == 404


def test_chain_of_custody_in_time_order_with_restricted_fields_hidden(client, login, db, facility, species,
                                                                     quarantine):
    case = services.create_case(facility=facility, user=None, occurred_at=utcnow(), source="customs_seizure",
                                officer="Lt. Sok Secret", latitude=11.61, longitude=103.02)
    (pangolin,) = services.admit_animals(case, [{"species_id": species["pangolin"].id}], user=None)
    services.record_handover(case, animal=None, user=None, from_party="Customs", to_party="Phnom Tamao",
                             handed_at=utcnow(), place="port")
    services.move_animals([pangolin], quarantine, reason="quarantine", user=None)
    services.set_evidence_hold(case, active=True, reason="trial pending", user=None)
    db.session.commit()
    login("keeper")
    html = client.get(f"/cases/{case.id}/custody").get_data(as_text=True)
    for text in ("Hand-over: Customs → Phnom Tamao", "Move:", "Evidence hold set", "Record insert: Case"):
        assert text in html, text
    assert html.index("Record insert: Case") < html.index("Evidence hold set")
    assert "Lt. Sok Secret" not in html and "11.61" not in html
    client.post_form("/logout")
    login("coordinator")
    assert "Lt. Sok Secret" in client.get(f"/cases/{case.id}/custody").get_data(as_text=True)


def test_census_and_custody_query_counts_do_not_grow(client, login, db, case, species, facility, count_queries):
    login("viewer")
    first = factories.EnclosureFactory(facility=facility)
    services.admit_animals(case, [{"species_id": species["turtle"].id, "enclosure_id": first.id}], user=None)
    client.get("/housing")
    with count_queries() as one:
        client.get("/housing")
        client.get(f"/cases/{case.id}/custody")
        client.get(f"/housing/{first.id}")
    for _ in range(49):
        enclosure = factories.EnclosureFactory(facility=facility)
        services.admit_animals(case, [{"species_id": species["turtle"].id, "enclosure_id": enclosure.id}], user=None)
        services.admit_animals(case, [{"species_id": species["macaque"].id, "enclosure_id": first.id}], user=None)
    with count_queries() as fifty:
        client.get("/housing")
        client.get(f"/cases/{case.id}/custody")
        client.get(f"/housing/{first.id}")
    assert one.count == fifty.count
