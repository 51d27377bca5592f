"""The housing census (GET /housing) and one enclosure's occupants (GET /housing/<id>), with bulk moves."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.animals import services
from app.animals.models import HousingMove
from tests import factories


def _admit(case, species, enclosure, quantity=1):
    (animal,) = services.admit_animals(case, [{"species_id": species.id, "quantity": quantity,
                                               "enclosure_id": enclosure.id}], user=None)
    return animal


def test_census_shows_occupancy_totals_and_warns_over_capacity(client, login, db, case, species, facility,
                                                               other_facility, quarantine):
    small = factories.EnclosureFactory(facility=facility, code="SMALL", section="Reptiles", capacity=2)
    big = factories.EnclosureFactory(facility=facility, code="BIG", section="Reptiles", capacity=100)
    _admit(case, species["turtle"], small, quantity=5)
    _admit(case, species["turtle"], big, quantity=7)
    factories.EnclosureFactory(facility=other_facility, code="ELSEWHERE")
    db.session.commit()
    login("keeper")
    html = client.get("/housing").get_data(as_text=True)
    assert "SMALL" in html and "BIG" in html and "Q-1" in html
    assert "ELSEWHERE" not in html
    assert html.count('data-testid="over-capacity"') == 1  # SMALL only
    assert "table-warning" in html and "quarantine" in html
    assert ">12<" in html  # the section total of SMALL and BIG


def test_enclosure_page_lists_occupants_and_warns_over_capacity(client, login, db, case, species, facility):
    small = factories.EnclosureFactory(facility=facility, code="SMALL", capacity=2)
    _admit(case, species["turtle"], small, quantity=5)
    _admit(case, species["macaque"], small)
    db.session.commit()
    login("keeper")
    html = client.get(f"/housing/{small.id}").get_data(as_text=True)
    assert html.count('data-testid="occupant-row"') == 2
    assert 'data-testid="over-capacity"' in html and "over capacity" in html
    assert "Cuora amboinensis" in html and "5 of 5" in html
    assert 'data-testid="move-selected"' not in html  # keepers have no animal.move
    assert 'name="animal_ids"' not in html and "/animals/move" not in html


def test_enclosure_page_shows_days_in_care(client, login, db, case, species, facility):
    pen = factories.EnclosureFactory(facility=facility, code="PEN")
    # Days in care count local calendar days: admitted at local noon twelve days ago is 12.
    zone = ZoneInfo(facility.timezone)
    noon = datetime.combine(datetime.now(zone).date() - timedelta(days=12), time(12), tzinfo=zone)
    services.admit_animals(case, [{"species_id": species["turtle"].id, "enclosure_id": pen.id}], user=None,
                           admitted_at=noon)
    db.session.commit()
    login("keeper")
    html = client.get(f"/housing/{pen.id}").get_data(as_text=True)
    assert '<td data-testid="days-in-care">12</td>' in html


def test_anonymous_is_sent_to_login(client, facility):
    for url in ("/housing", f"/housing/{factories.EnclosureFactory(facility=facility).id}"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_enclosure_page_of_another_facility_is_404(client, login, other_facility):
    elsewhere = factories.EnclosureFactory(facility=other_facility)
    login("keeper")
    assert client.get(f"/housing/{elsewhere.id}").status_code == 404


def test_bulk_move_from_the_enclosure_page(client, login, db, case, species, facility, quarantine):
    pen = factories.EnclosureFactory(facility=facility, code="PEN", capacity=10)
    first, second = _admit(case, species["turtle"], pen), _admit(case, species["macaque"], pen)
    db.session.commit()
    login("vet")
    html = client.get(f"/housing/{pen.id}").get_data(as_text=True)
    assert 'data-testid="move-selected"' in html and 'name="animal_ids"' in html
    ids = [str(first.id), str(second.id)]
    confirm = client.post_form("/animals/move", {"animal_ids": ids})
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert first.accession_number in page and second.accession_number in page
    done = client.post_form("/animals/move", {"animal_ids": ids, "confirm": "1",
                                              "to_enclosure_id": str(quarantine.id), "reason": "new arrivals"})
    assert done.status_code == 302
    db.session.expire_all()
    moves = db.session.execute(select(HousingMove).where(HousingMove.to_enclosure_id == quarantine.id)).scalars()
    assert sorted(m.animal_id for m in moves) == sorted([first.id, second.id])
    assert client.get(f"/housing/{quarantine.id}").get_data(as_text=True).count('data-testid="occupant-row"') == 2


def test_bulk_move_refused_to_a_keeper_and_404_for_unseen_animals(client, login, db, case, species, facility,
                                                                  other_facility):
    pen = factories.EnclosureFactory(facility=facility)
    mine = _admit(case, species["turtle"], pen)
    theirs_case = factories.CaseFactory(facility=other_facility)
    theirs = _admit(theirs_case, species["turtle"], factories.EnclosureFactory(facility=other_facility))
    db.session.commit()
    login("keeper")
    assert client.post_form("/animals/move", {"animal_ids": [str(mine.id)]}).status_code == 403
    client.post_form("/logout")
    login("vet")
    assert client.post_form("/animals/move", {"animal_ids": [str(mine.id), str(theirs.id)]}).status_code == 404


def test_census_query_count_does_not_grow_with_the_enclosures(client, login, db, case, species, facility,
                                                              count_queries):
    _admit(case, species["turtle"], factories.EnclosureFactory(facility=facility))
    db.session.commit()
    login("viewer")
    client.get("/housing")
    with count_queries() as one:
        assert client.get("/housing").status_code == 200
    for _ in range(49):
        _admit(case, species["turtle"], factories.EnclosureFactory(facility=facility))
    db.session.commit()
    with count_queries() as fifty:
        html = client.get("/housing").get_data(as_text=True)
    assert html.count('data-testid="enclosure-row"') == 50
    assert one.count == fifty.count, (one, fifty)


def test_enclosure_page_query_count_does_not_grow_with_the_occupants(client, login, db, case, species, facility,
                                                                     count_queries):
    pen = factories.EnclosureFactory(facility=facility)
    _admit(case, species["turtle"], pen)
    db.session.commit()
    url = f"/housing/{pen.id}"
    login("vet")
    client.get(url)
    with count_queries() as one:
        assert client.get(url).status_code == 200
    for _ in range(49):
        _admit(case, species["macaque"], pen)
    db.session.commit()
    with count_queries() as fifty:
        html = client.get(url).get_data(as_text=True)
    assert html.count('data-testid="occupant-row"') == 50
    assert one.count == fifty.count, (one, fifty)
