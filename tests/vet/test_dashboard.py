"""The vet dashboard: what it lists at the user's facilities, who may open it, and its query count.

The page reads the real clock: animals are admitted relative to utcnow(), and an
overdue dose is made by prescribing as of a day ago (a twice-daily course whose
first doses are then past, whatever the time of day the test runs).
"""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app.common.db import utcnow
from app.vet import services
from app.vet.models import QuarantineTest
from app.vet.prescriptions import prescribe
from tests import factories
from tests.vet.conftest import weigh

ZONE = ZoneInfo("Asia/Phnom_Penh")


def _today():
    return utcnow().astimezone(ZONE).date()


@pytest.fixture
def macaque(db):
    species = factories.SpeciesFactory(common_name_en="Long-tailed macaque", quarantine_days=30)
    db.session.add(QuarantineTest(species_id=species.id, test="Tuberculin skin test"))
    return species


@pytest.fixture
def dr(make_user):
    return make_user("vet", name="Dr Sokha")


def _patient(facility, species, vet, n=0, *, admitted_days_ago=7, enclosure=None):
    """An animal in quarantine with an active problem, a pending lab result and an overdue dose."""
    animal = factories.AnimalFactory(case=factories.CaseFactory(facility=facility), species=species,
                                     name=f"Patient {n}", enclosure_id=enclosure.id if enclosure else None,
                                     admitted_at=utcnow() - timedelta(days=admitted_days_ago))
    weigh(animal, 6000, at=utcnow() - timedelta(days=2))
    services.add_problem(animal, user=vet, now=utcnow(), diagnosis=f"Diagnosis {n}",
                         onset_on=_today() - timedelta(days=3))
    services.add_lab_result(animal, user=vet, now=utcnow(), test=f"Faecal parasitology {n}",
                            sampled_on=_today() - timedelta(days=4))
    prescribe(animal, user=vet, now=utcnow() - timedelta(days=1), drug=f"Meloxicam{n}", dose_mg_per_kg="0.2",
              route="PO", frequency="BID", days=3)
    return animal


def _section(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    end = html.find("</section>", start)
    return html[start:end]


def test_the_dashboard_costs_the_same_queries_for_1_and_30_animals(client, login, db, facility, macaque, dr,
                                                                    quarantine_enclosure, count_queries):
    _patient(facility, macaque, dr, 0, enclosure=quarantine_enclosure)
    db.session.commit()
    login("vet")
    assert client.get("/vet").status_code == 200
    with count_queries() as one:
        client.get("/vet")
    for n in range(1, 30):
        _patient(facility, macaque, dr, n, enclosure=quarantine_enclosure if n % 2 else None)
    db.session.commit()
    with count_queries() as thirty:
        html = client.get("/vet").get_data(as_text=True)
    assert html.count('data-testid="quarantine-row"') == 30
    assert html.count('data-testid="active-problem"') == 30
    assert html.count('data-testid="pending-lab"') == 30
    assert html.count('data-testid="dose"') >= 30
    assert one.count == thirty.count, f"{one}\n----\n{thirty}"


def test_the_dashboard_shows_an_overdue_dose_with_its_round_card_and_a_pending_lab_result(
        client, login, db, facility, macaque, dr, quarantine_enclosure):
    animal = _patient(facility, macaque, dr, enclosure=quarantine_enclosure)
    db.session.commit()
    login("vet")
    html = client.get("/vet").get_data(as_text=True)
    doses = _section(html, "dashboard-doses")
    first = doses.split('data-testid="dose"')[1]
    assert "Overdue" in first and "Meloxicam0 1.2 mg PO" in first and animal.accession_number in first
    assert f'href="/round/enclosures/{quarantine_enclosure.id}#task-' in first
    assert re.search(r'text-bg-danger">\d+ overdue<', doses)
    labs = _section(html, "dashboard-labs")
    assert "Faecal parasitology 0" in labs and re.search(r'class="text-end">4</td>', labs), "four days waiting"
    problems = _section(html, "dashboard-problems")
    assert "Diagnosis 0" in problems and animal.accession_number in problems


def test_a_dose_of_an_unhoused_animal_links_to_the_unhoused_round(client, login, db, facility, macaque, dr):
    _patient(facility, macaque, dr)
    db.session.commit()
    login("vet")
    doses = _section(client.get("/vet").get_data(as_text=True), "dashboard-doses")
    assert 'href="/round/unhoused#task-' in doses


def test_quarantine_shows_days_left_missing_tests_and_overdue_in_red(client, login, db, facility, macaque, dr):
    recent = _patient(facility, macaque, dr, 1)
    late = _patient(facility, macaque, dr, 2, admitted_days_ago=40)
    services.add_lab_result(late, user=dr, now=utcnow(), test="Tuberculin skin test", sampled_on=_today())
    db.session.commit()
    login("vet")
    rows = _section(client.get("/vet").get_data(as_text=True), "dashboard-quarantine").split(
        'data-testid="quarantine-row"')[1:]
    assert late.accession_number in rows[0], "past its expected end first"
    assert re.search(r'text-danger fw-semibold" data-testid="days-left">-10<', rows[0])
    assert "text-bg-warning me-1\">Tuberculin skin test" in rows[0], "sampled, waiting for the result"
    assert recent.accession_number in rows[1]
    assert re.search(r'class="text-end" data-testid="days-left">23<', rows[1])
    assert "text-bg-danger me-1\">Tuberculin skin test" in rows[1], "no sample yet"


def test_a_resolved_problem_and_a_recorded_result_are_not_listed(client, login, db, facility, macaque, dr):
    animal = factories.AnimalFactory(case=factories.CaseFactory(facility=facility), species=macaque,
                                     admitted_at=utcnow() - timedelta(days=7))
    services.add_problem(animal, user=dr, now=utcnow(), diagnosis="Healed wound", status="resolved")
    services.add_lab_result(animal, user=dr, now=utcnow(), test="Haematology", sampled_on=_today(),
                            interpretation="negative")
    db.session.commit()
    login("vet")
    html = client.get("/vet").get_data(as_text=True)
    assert "Healed wound" not in html and "Haematology" not in html
    assert "No doses due today." in html


def test_another_facilitys_animals_are_not_shown(client, login, db, facility, other_facility, macaque, make_user):
    mine = _patient(facility, macaque, make_user("vet"), 1)
    theirs = _patient(other_facility, macaque, make_user("vet", facilities=[other_facility]), 2)
    db.session.commit()
    login("vet")
    html = client.get("/vet").get_data(as_text=True)
    assert mine.accession_number in html
    assert theirs.accession_number not in html and "Diagnosis 2" not in html and "Meloxicam2" not in html
    assert client.get(f"/vet?facility_id={other_facility.id}").status_code == 404


def test_a_coordinator_sees_every_facility_and_may_pick_one(client, login, db, facility, other_facility, macaque,
                                                            make_user):
    mine = _patient(facility, macaque, make_user("vet"), 1)
    theirs = _patient(other_facility, macaque, make_user("vet", facilities=[other_facility]), 2)
    db.session.commit()
    login("coordinator")
    html = client.get("/vet").get_data(as_text=True)
    assert mine.accession_number in html and theirs.accession_number in html
    picked = client.get(f"/vet?facility_id={other_facility.id}").get_data(as_text=True)
    assert theirs.accession_number in picked and mine.accession_number not in picked


@pytest.mark.parametrize("role", ["keeper", "viewer"])
def test_keepers_and_viewers_may_not_open_the_dashboard(client, login, role):
    login(role)
    assert client.get("/vet").status_code == 403
    assert 'href="/vet"' not in client.get("/animals").get_data(as_text=True)


@pytest.mark.parametrize("role", ["vet", "coordinator", "admin"])
def test_clinical_staff_find_the_dashboard_in_the_menu(client, login, role):
    login(role)
    assert client.get("/vet").status_code == 200
    assert re.search(r'href="/vet">Vet<', client.get("/animals").get_data(as_text=True))


@pytest.mark.parametrize(("role", "shown"), [("vet", True), ("coordinator", False)])
def test_vets_reach_the_quarantine_tests_from_the_dashboard(client, login, role, shown):
    login(role)
    html = client.get("/vet").get_data(as_text=True)
    assert ('href="/vet/quarantine-tests"' in html) is shown
