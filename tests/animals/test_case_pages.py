"""The case pages and the intake table: record a seizure, admit rows all or none, holds, custody."""

import re

import pytest
import sqlalchemy as sa

from app.animals.models import Animal, Case, CustodyHandover
from tests import factories


def _row(**values):
    row = {"species": "", "species_id": "", "quantity": "1", "sex": "", "age_class": "", "intake_condition": "",
           "weight_g": "", "enclosure": "", "name": "", "identifiers": ""}
    row.update({k: str(v) for k, v in values.items()})
    return row


def _table(*rows, blanks=2):
    """The intake form as the browser posts it: parallel lists, blank rows included."""
    rows = [*rows, *[_row() for _ in range(blanks)]]
    return {field: [r[field] for r in rows] for field in rows[0]}


def _count(db, model):
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar()


def test_coordinator_records_a_seizure_and_admits_three_species(client, login, facility, species, quarantine, db):
    login("coordinator", facilities=[facility])
    assert client.get("/cases/new").status_code == 200
    response = client.post_form("/cases/new", {
        "facility_id": facility.id, "occurred_at": "2026-11-20T06:30", "source": "customs_seizure",
        "agency": "Customs", "officer": "Lt. Sok", "province": "Koh Kong", "latitude": "11.6", "longitude": "103.0",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    assert re.search(r"/cases/\d+/intake$", response.headers["Location"])
    db.session.expire_all()
    case = db.session.execute(sa.select(Case)).scalar_one()
    # 06:30 in Phnom Penh (UTC+7) is 23:30 UTC the day before.
    when = case.occurred_at
    assert case.officer == "Lt. Sok" and (when.day, when.hour, when.minute) == (19, 23, 30)
    page = client.get(response.headers["Location"])
    table = page.get_data(as_text=True).split('id="intake-row-template"')[0]
    assert page.status_code == 200 and table.count('data-testid="intake-row"') == 5

    form = _table(
        _row(species="Amboina box turtle", quantity=50, enclosure=quarantine.id),
        _row(species="Macaca fascicularis", sex="female", weight_g=2100, enclosure=quarantine.id,
             identifiers="microchip:985112000123456"),
        _row(species="Sunda pangolin — Manis javanica", intake_condition="poor"),
    )
    response = client.post_form(f"/cases/{case.id}/intake", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    db.session.expire_all()
    animals = db.session.execute(sa.select(Animal).order_by(Animal.accession_number)).scalars().all()
    assert [(a.species_id, a.quantity) for a in animals] == [
        (species["turtle"].id, 50), (species["macaque"].id, 1), (species["pangolin"].id, 1)]
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 records, 52 animals admitted." in detail
    assert all(a.accession_number in detail for a in animals)


@pytest.mark.parametrize("role", ["keeper", "vet", "viewer"])
def test_other_roles_may_not_create_or_admit(client, login, role, case):
    login(role)
    for path in ("/cases/new", f"/cases/{case.id}/intake", f"/cases/{case.id}/import", f"/cases/{case.id}/edit"):
        assert client.get(path).status_code == 403, path
        assert client.post_form(path, {}).status_code == 403, path
    assert client.post_form(f"/cases/{case.id}/hold", {"active": "1", "reason": "x"}).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, case):
    for path in ("/cases", f"/cases/{case.id}", "/cases/new", f"/cases/{case.id}/intake"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_keeper_of_another_facility_gets_404(client, login, other_facility, case):
    login("keeper", facilities=[other_facility])
    assert client.get(f"/cases/{case.id}").status_code == 404
    login_keeper = client.get("/cases").get_data(as_text=True)
    assert case.reference not in login_keeper


def _held_case(facility):
    return factories.CaseFactory(facility=facility, officer="Lt. Sok Dara", suspect_details="truck plate 2A-1234",
                                 reporter="Anonymous caller 012", latitude=11.612345, longitude=103.054321)


def test_restricted_fields_only_for_coordinators(client, login, facility, db):
    case = _held_case(facility)
    login("keeper")
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    for secret in ("Lt. Sok Dara", "2A-1234", "11.612345", "103.054321", "Anonymous caller 012"):
        assert secret not in html
    client.post_form("/logout")
    login("coordinator")
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    for secret in ("Lt. Sok Dara", "2A-1234", "11.612345", "103.054321", "Anonymous caller 012"):
        assert secret in html


def test_restricted_fields_are_not_on_a_form_of_a_role_without_them(app, facility, db):
    from flask_login import login_user

    from app.animals.forms_cases import CaseForm

    keeper = factories.UserFactory(role="keeper", facilities=[facility])
    with app.test_request_context("/cases/new", method="POST", data={"officer": "Lt. X", "latitude": "1"}):
        login_user(keeper)
        form = CaseForm()
        assert "officer" not in form and "latitude" not in form
        assert "officer" not in form.values() and "suspect_details" not in form.values()


def test_keeper_cannot_set_a_restricted_field(client, login, facility, db):
    case = _held_case(facility)
    login("keeper")
    response = client.post_form(f"/cases/{case.id}/edit", {"officer": "Someone else", "version": case.version})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Case, case.id).officer == "Lt. Sok Dara"


def test_evidence_hold_set_and_lifted_with_a_reason(client, login, case, db):
    login("coordinator")
    response = client.post_form(f"/cases/{case.id}/hold", {"active": "1", "reason": "  "})
    assert response.status_code == 422
    assert "Give the reason" in response.get_data(as_text=True)
    response = client.post_form(f"/cases/{case.id}/hold", {"active": "1", "reason": "Court order 17/2026"})
    assert response.status_code == 302
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'data-testid="hold-banner"' in html and "Court order 17/2026" in html
    assert client.get("/cases?held=1").get_data(as_text=True).count(case.reference) == 1
    response = client.post_form(f"/cases/{case.id}/hold", {"active": "0", "reason": "Prosecutor released evidence"})
    assert response.status_code == 302
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'data-testid="hold-banner"' not in html and "Prosecutor released evidence" in html
    db.session.expire_all()
    assert db.session.get(Case, case.id).evidence_hold is False


def test_an_active_hold_is_confirmed_on_the_case_page(client, login, case, db):
    login("coordinator")
    client.post_form(f"/cases/{case.id}/hold", {"active": "1", "reason": "Court order 17/2026"})
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'value="review"' in html and "Confirm it is still needed" in html
    response = client.post_form(f"/cases/{case.id}/hold", {"active": "review", "reason": ""})
    assert response.status_code == 422 and "Say why the hold is still needed" in response.get_data(as_text=True)
    response = client.post_form(f"/cases/{case.id}/hold", {"active": "review", "reason": "Appeal lodged"})
    assert response.status_code == 302
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "confirmed" in html and "Appeal lodged" in html and 'data-testid="hold-banner"' in html
    db.session.expire_all()
    assert db.session.get(Case, case.id).evidence_hold is True


def test_handover_recorded_through_the_page(client, login, case, db):
    animal = factories.AnimalFactory(case=case)
    login("coordinator")
    response = client.post_form(f"/cases/{case.id}/handovers", {"animal_id": "", "from_party": "Customs",
                                                                  "to_party": "", "handed_at": "2026-11-21T09:00"})
    assert response.status_code == 422 and "Required." in response.get_data(as_text=True)
    response = client.post_form(f"/cases/{case.id}/handovers", {
        "animal_id": str(animal.id), "from_party": "Customs, Lt. Sok", "to_party": "PTK vet team",
        "handed_at": "2026-11-21T09:00", "place": "Koh Kong port", "purpose": "Care", "seal_ids": "S-0042"})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    handover = db.session.execute(sa.select(CustodyHandover)).scalar_one()
    assert (handover.animal_id, handover.seal_ids, handover.handed_at.hour, handover.handed_at.minute) == (
        animal.id, "S-0042", 2, 0)
    assert "PTK vet team" in client.get(f"/cases/{case.id}").get_data(as_text=True)


def test_stale_version_on_case_edit_is_refused_and_typing_kept(client, login, case, db):
    login("coordinator")
    assert client.get(f"/cases/{case.id}/edit").status_code == 200
    data = {"occurred_at": "2026-11-20T06:30", "source": "customs_seizure", "agency": "Military Police",
            "notes": "my notes", "version": case.version - 1}
    response = client.post_form(f"/cases/{case.id}/edit", data)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "changed by someone else" in html and 'value="Military Police"' in html and "my notes" in html
    response = client.post_form(f"/cases/{case.id}/edit", {**data, "version": case.version})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case.id).agency == "Military Police"


def test_case_list_query_count_does_not_grow(client, login, facility, db, count_queries):
    login("coordinator")

    def measure():
        with count_queries() as counter:
            response = client.get("/cases?per_page=100")
        assert response.status_code == 200
        return counter.count

    first = factories.CaseFactory(facility=facility)
    factories.AnimalFactory(case=first)
    one = measure()
    for _ in range(49):
        factories.AnimalFactory(case=factories.CaseFactory(facility=facility))
    assert measure() == one


def test_case_page_query_count_does_not_grow(client, login, case, db, count_queries):
    login("coordinator")
    enclosure = factories.EnclosureFactory(facility_id=case.facility_id)

    def measure():
        with count_queries() as counter:
            response = client.get(f"/cases/{case.id}")
        assert response.status_code == 200
        return counter.count

    factories.AnimalFactory(case=case, enclosure=enclosure)
    one = measure()
    for _ in range(49):
        factories.AnimalFactory(case=case, enclosure=enclosure)
    assert measure() == one


def test_case_list_search_filter_and_counts(client, login, facility, db):
    held = factories.CaseFactory(facility=facility, agency="Military Police", province="Kratie", evidence_hold=True)
    other = factories.CaseFactory(facility=facility, agency="Customs")
    factories.AnimalFactory(case=held, intake_quantity=40)
    factories.AnimalFactory(case=held)
    login("viewer")
    html = client.get("/cases").get_data(as_text=True)
    assert held.reference in html and other.reference in html and "Record a seizure" not in html
    row = html.split(held.reference, 1)[1].split("</tr>")[0]
    assert "Kratie" in row and ">2<" in row and ">41<" in row and "Evidence hold" in row
    html = client.get("/cases", query_string={"q": "military"}).get_data(as_text=True)
    assert held.reference in html and other.reference not in html
    html = client.get("/cases", query_string={"held": "0"}).get_data(as_text=True)
    assert held.reference not in html and other.reference in html


@pytest.mark.parametrize("role", ["keeper", "vet", "viewer"])
def test_other_roles_may_not_record_a_handover(client, login, role, case, db):
    login(role)
    data = {"from_party": "Customs", "to_party": "Vet team", "handed_at": "2026-11-21T09:00"}
    assert client.post_form(f"/cases/{case.id}/handovers", data).status_code == 403
    assert _count(db, CustodyHandover) == 0


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"occurred_at": "2099-01-01T08:00"}, "occurred_at", "cannot be in the future"),
    ({"source": ""}, "source", "Choose the source."),
    ({"longitude": ""}, "latitude", "Give both latitude and longitude"),
])
def test_a_bad_case_form_stores_nothing_and_keeps_the_typing(client, login, facility, db, change, field, message):
    login("coordinator", facilities=[facility])
    data = {"facility_id": facility.id, "occurred_at": "2026-11-20T06:30", "source": "customs_seizure",
            "agency": "Forestry Administration", "latitude": "11.6", "longitude": "103.0", "notes": "typed notes",
            **change}
    response = client.post_form("/cases/new", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    # The message sits next to its field (the field macro marks the input invalid).
    assert re.search(rf'id="{field}"[^>]*is-invalid|is-invalid[^>]*id="{field}"', html), field
    assert 'value="Forestry Administration"' in html and "typed notes" in html and 'value="11.6"' in html
    assert _count(db, Case) == 0
