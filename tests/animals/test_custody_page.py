"""The printable chain of custody of a case (GET /cases/<id>/custody)."""

import re
from datetime import timedelta

from app.animals import services
from app.common.db import utcnow
from tests import factories


def _entry_times(html: str) -> list[str]:
    """The UTC column of every entry, in page order."""
    return re.findall(r'data-testid="custody-entry"[^>]*><td class="text-nowrap">([^<]+)</td>', html)


def _held_case(db, facility, species, quarantine):
    now = utcnow()
    case = services.create_case(facility=facility, user=None, occurred_at=now - timedelta(hours=3),
                                source="customs_seizure", officer="Lt. Sok Secret", latitude=11.61, longitude=103.02)
    (pangolin,) = services.admit_animals(case, [{"species_id": species["pangolin"].id}], user=None)
    services.record_handover(case, animal=None, user=None, from_party="Customs", to_party="Phnom Tamao",
                             handed_at=now - timedelta(hours=2), place="port")
    services.move_animals([pangolin], quarantine, reason="quarantine", user=None, moved_at=now - timedelta(hours=1))
    services.set_evidence_hold(case, active=True, reason="trial pending", user=None)
    db.session.commit()
    return case, pangolin


def test_lists_every_kind_of_entry_in_time_order(client, login, db, facility, species, quarantine):
    case, pangolin = _held_case(db, facility, species, quarantine)
    services.set_evidence_hold(case, active=False, reason="verdict given", user=None)
    services.update_case(case, {"legal_reference": "Court file 77/2026"})
    db.session.commit()
    login("coordinator")
    response = client.get(f"/cases/{case.id}/custody")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    expected_order = ["Hand-over: Customs → Phnom Tamao (whole case)", f"Move: {pangolin.accession_number}",
                      f"Record insert: Case {case.reference}", "Evidence hold set", "Evidence hold lifted",
                      "Court file 77/2026"]
    events = html[html.index('data-testid="custody-entries"'):]
    positions = [events.index(text) for text in expected_order]
    assert positions == sorted(positions)
    assert f"Record insert: Animal {pangolin.accession_number}" in html
    times = _entry_times(html)
    assert times and times == sorted(times)
    assert 'data-print' in html and "js/animals.js" in html  # the Print button, without inline script
    assert "<script>" not in html


def test_restricted_fields_hidden_from_a_keeper(client, login, db, facility, species, quarantine):
    case, _ = _held_case(db, facility, species, quarantine)
    services.update_case(case, {"officer": "Capt. Chan Hidden", "suspect_details": "Van plate 2A-1234"})
    db.session.commit()
    login("keeper")
    html = client.get(f"/cases/{case.id}/custody").get_data(as_text=True)
    for secret in ("Lt. Sok Secret", "Capt. Chan Hidden", "11.61", "103.02", "2A-1234"):
        assert secret not in html, secret
    assert "Evidence hold set" in html and "hold-banner" in html
    client.post_form("/logout")
    login("coordinator")
    html = client.get(f"/cases/{case.id}/custody").get_data(as_text=True)
    assert "Capt. Chan Hidden" in html and "Lt. Sok Secret" in html and "2A-1234" in html


def test_anonymous_is_sent_to_login(client, case):
    response = client.get(f"/cases/{case.id}/custody")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_restricted_keys_dropped_from_audit_changes_for_a_keeper(app, db, facility, species, quarantine):
    from app.animals.custody import chain_of_custody

    case, _ = _held_case(db, facility, species, quarantine)
    services.update_case(case, {"reporter": "Informant Vanna", "place": "Koh Kong port"})
    db.session.commit()
    hidden = " ".join(entry.details for entry in chain_of_custody(case, restricted=False))
    shown = " ".join(entry.details for entry in chain_of_custody(case, restricted=True))
    assert "Informant Vanna" not in hidden and "reporter" not in hidden and "Koh Kong port" in hidden
    assert "Informant Vanna" in shown


def test_case_of_another_facility_is_404(client, login, other_facility):
    elsewhere = factories.CaseFactory(facility=other_facility)
    login("keeper")
    assert client.get(f"/cases/{elsewhere.id}/custody").status_code == 404


def _add_animal(case, species, enclosure):
    (animal,) = services.admit_animals(case, [{"species_id": species.id}], user=None)
    services.move_animals([animal], enclosure, reason="settled", user=None)
    services.record_handover(case, animal=animal, user=None, from_party="Police", to_party="Vet team",
                             handed_at=utcnow())


def test_query_count_does_not_grow_with_the_animals(client, login, db, case, species, quarantine, count_queries):
    _add_animal(case, species["turtle"], quarantine)
    db.session.commit()
    url = f"/cases/{case.id}/custody"  # read before counting: case.id of an expired object is a query
    login("viewer")
    client.get(url)
    with count_queries() as one:
        assert client.get(url).status_code == 200
    for _ in range(49):
        _add_animal(case, species["turtle"], quarantine)
    db.session.commit()
    with count_queries() as fifty:
        html = client.get(url).get_data(as_text=True)
    assert html.count('data-source="move"') == 50 and html.count('data-source="handover"') == 50
    assert one.count == fifty.count, (one, fifty)
