"""The medical side of the animal record: header badges, the medical panel, vet entries on the timeline.

The record page reads the real clock, so the data is made with now=utcnow() and an
animal admitted a week ago (the fixtures' NOW is a fixed day of the past).
"""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app.animals.models import Attachment, Case
from app.care.models import CareTask
from app.care.records import complete_task
from app.common.db import utcnow
from app.vet import deaths, services
from app.vet.models import QuarantineTest
from app.vet.prescriptions import prescribe, stop_prescription
from app.vet.quarantine import clear_quarantine
from tests import factories
from tests.vet.conftest import weigh

ZONE = ZoneInfo("Asia/Phnom_Penh")


def _today():
    return utcnow().astimezone(ZONE).date()


@pytest.fixture
def patient(db, facility, quarantine_enclosure):
    """A macaque admitted a week ago, in quarantine (30 days, two tests required), weighed yesterday."""
    species = factories.SpeciesFactory(common_name_en="Long-tailed macaque", quarantine_days=30)
    db.session.add_all([QuarantineTest(species_id=species.id, test="Tuberculin skin test"),
                        QuarantineTest(species_id=species.id, test="Faecal parasitology")])
    animal = factories.AnimalFactory(case=factories.CaseFactory(facility=facility), species=species, name="Srey",
                                     enclosure_id=quarantine_enclosure.id, admitted_at=utcnow() - timedelta(days=7))
    weigh(animal, 6000, at=utcnow() - timedelta(days=1))
    db.session.commit()
    return animal


@pytest.fixture
def dr(make_user):
    return make_user("vet", name="Dr Sokha")


def _exam(animal, vet, n=0):
    return services.record_exam(animal, user=vet, now=utcnow(), weight_g="6000", temperature_c="38.5",
                                findings=f"Findings {n}", assessment=f"Assessment {n}")


def _prescription(animal, vet, drug="Meloxicam", *, now=None):
    prescription, _warnings = prescribe(animal, user=vet, now=now or utcnow(), drug=drug, dose_mg_per_kg="0.2",
                                        concentration_mg_per_ml="1.5", route="PO", frequency="BID", days=3)
    return prescription


def _lab(animal, vet, test="Haematology", interpretation=None):
    return services.add_lab_result(animal, user=vet, now=utcnow(), test=test, sampled_on=_today(),
                                   interpretation=interpretation, result="Within range" if interpretation else "")


def _everything(animal, vet, n):
    _exam(animal, vet, n)
    services.add_problem(animal, user=vet, now=utcnow(), diagnosis=f"Problem {n}", onset_on=_today())
    _prescription(animal, vet, drug=f"Drug {n}")
    _lab(animal, vet, test=f"Test {n}", interpretation="negative" if n % 2 else None)


def _section(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    return html[start:start + 6000]


def _header(html: str) -> str:
    start = html.index('data-testid="animal-header"')
    return html[start:html.index("</div></div>", start)]


# --- query counts --------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["vet", "coordinator"])
def test_the_record_costs_the_same_queries_for_1_and_20_of_each_medical_record(client, login, db, patient, dr,
                                                                                count_queries, role):
    _everything(patient, dr, 0)
    db.session.commit()
    login(role)
    url = f"/animals/{patient.id}"
    assert client.get(url).status_code == 200
    with count_queries() as one:
        client.get(url)
    for n in range(1, 20):
        _everything(patient, dr, n)
    db.session.commit()
    with count_queries() as twenty:
        html = client.get(url).get_data(as_text=True)
    assert "Problem 19" in html and "Drug 19" in html and "Test 19" in html
    assert html.count('data-testid="exam"') == 5, "the last five exams"
    assert "5 shown of 20" in html
    assert one.count == twenty.count, f"{one}\n----\n{twenty}"


def test_the_record_of_a_lot_costs_the_same_queries_for_1_and_5_deaths(client, login, db, lot, dr, count_queries):
    deaths.record_death(lot, user=dr, occurred_at=utcnow() - timedelta(hours=2), count=1, cause="Shell rot")
    db.session.commit()
    login("vet")
    url = f"/animals/{lot.id}"
    client.get(url)
    with count_queries() as one:
        client.get(url)
    for n in range(4):
        deaths.record_death(lot, user=dr, occurred_at=utcnow() - timedelta(hours=1), count=2, cause=f"Cause {n}")
    db.session.commit()
    with count_queries() as five:
        html = client.get(url).get_data(as_text=True)
    assert html.count('data-testid="death"') == 5
    assert one.count == five.count, f"{one}\n----\n{five}"


# --- the header ------------------------------------------------------------------------------

def test_the_header_shows_quarantine_days_left_and_missing_results(client, login, db, patient, dr):
    _lab(patient, dr, test="Faecal parasitology", interpretation="negative")
    db.session.commit()
    login("keeper")
    header = _header(client.get(f"/animals/{patient.id}").get_data(as_text=True))
    assert 'data-testid="header-quarantine"' in header
    assert "23 days left" in header
    missing = _section(header, "header-missing-tests")
    assert "Tuberculin skin test" in missing and "Faecal parasitology" not in missing.split("</span>")[0]


def test_the_header_shows_active_problems_not_resolved_ones(client, login, db, patient, dr):
    services.add_problem(patient, user=dr, now=utcnow(), diagnosis="Ringworm", onset_on=_today())
    services.add_problem(patient, user=dr, now=utcnow(), diagnosis="Old bite wound",
                         onset_on=_today() - timedelta(days=5), status="resolved", resolved_on=_today())
    db.session.commit()
    login("viewer")
    html = client.get(f"/animals/{patient.id}").get_data(as_text=True)
    header = _header(html)
    assert re.search(r'data-testid="problem-badge">Ringworm<', header)
    assert "Old bite wound" not in header
    problems = _section(html, "problems")
    assert problems.index("Ringworm") < problems.index("Old bite wound"), "active first"


def test_past_its_expected_end_the_quarantine_is_shown_in_red(client, login, db, facility):
    animal = factories.AnimalFactory(case=factories.CaseFactory(facility=facility),
                                     species=factories.SpeciesFactory(quarantine_days=30),
                                     admitted_at=utcnow() - timedelta(days=40))
    db.session.commit()
    login("vet")
    header = _header(client.get(f"/animals/{animal.id}").get_data(as_text=True))
    assert re.search(r'class="text-danger">10 days past its expected end<', header)


# --- the medical panel -----------------------------------------------------------------------

def test_a_vet_sees_the_medical_buttons_and_a_keeper_does_not(client, login, db, patient, dr):
    problem = services.add_problem(patient, user=dr, now=utcnow(), diagnosis="Ringworm")
    prescription = _prescription(patient, dr)
    lab = _lab(patient, dr)
    db.session.commit()
    login("vet")
    html = client.get(f"/animals/{patient.id}").get_data(as_text=True)
    for href in (f"/animals/{patient.id}/exams/new", f"/animals/{patient.id}/problems/new",
                 f"/animals/{patient.id}/prescriptions/new", f"/animals/{patient.id}/lab-results/new",
                 f"/animals/{patient.id}/death/new", f"/animals/{patient.id}/euthanasia/new",
                 f"/animals/{patient.id}/quarantine/clear", f"/problems/{problem.id}/edit",
                 f"/prescriptions/{prescription.id}/stop", f"/lab-results/{lab.id}/result"):
        assert f'href="{href}"' in html, href
    assert "Authorise euthanasia" not in html


def test_a_keeper_sees_the_medical_record_without_its_buttons(client, login, db, patient, dr):
    problem = services.add_problem(patient, user=dr, now=utcnow(), diagnosis="Ringworm")
    _prescription(patient, dr)
    db.session.commit()
    login("keeper")
    html = client.get(f"/animals/{patient.id}").get_data(as_text=True)
    assert 'data-testid="medical-panel"' in html and "Ringworm" in html
    assert 'data-testid="vet-actions"' not in html
    assert "/exams/new" not in html and f"/problems/{problem.id}/edit" not in html and "/stop" not in html


def test_a_coordinator_may_authorise_a_euthanasia_when_the_case_is_under_a_hold(client, login, db, patient):
    login("coordinator")
    assert "Authorise euthanasia under evidence hold" not in client.get(f"/animals/{patient.id}").get_data(
        as_text=True)
    db.session.get(Case, patient.case_id).evidence_hold = True
    db.session.commit()
    html = client.get(f"/animals/{patient.id}").get_data(as_text=True)
    assert re.search(rf'href="/animals/{patient.id}/euthanasia/authorise" data-testid="authorise-euthanasia">'
                     r"Authorise euthanasia under evidence hold<", html)
    assert 'data-testid="euthanasia-hold"' in html


def test_prescriptions_show_the_dose_the_weight_used_and_the_doses_given(client, login, db, patient, dr):
    # Prescribed a day ago: its first two doses (twice a day) are past, whatever the time of day.
    prescription = _prescription(patient, dr, now=utcnow() - timedelta(days=1))
    tasks = sorted(db.session.query(CareTask).filter_by(schedule_id=prescription.schedule_id).all(),
                   key=lambda t: t.due_at)
    complete_task(tasks[0], user=dr, client_id="dose-given-1", given="given", now=utcnow())
    complete_task(tasks[1], user=dr, client_id="dose-refused-1", given="refused", now=utcnow())
    other = _prescription(patient, dr, drug="Enrofloxacin")
    stop_prescription(other, user=dr, reason="Culture negative", now=utcnow())
    db.session.commit()
    login("vet")
    html = client.get(f"/animals/{patient.id}").get_data(as_text=True)
    rows = _section(html, "prescriptions").split('data-testid="prescription"')[1:]
    meloxicam = next(r for r in rows if "Meloxicam" in r)
    assert "1.2 mg" in meloxicam and "0.8 ml" in meloxicam and "0.2 mg/kg" in meloxicam
    assert "6000 g" in meloxicam and "stale-weight" not in meloxicam
    assert re.search(r'data-testid="doses">1/6\s', meloxicam) and "1 not given" in meloxicam
    enro = next(r for r in rows if "Enrofloxacin" in r)
    assert re.search(r'data-testid="doses">0/0\s', enro), "every dose was still to come: all cancelled"
    assert "stopped" in enro and "Culture negative" in enro and "/stop" not in enro
    assert html.index("Meloxicam") < html.index("Enrofloxacin"), "active first"


def test_a_stale_weight_is_flagged_on_the_prescription(client, login, db, facility, dr):
    animal = factories.AnimalFactory(case=factories.CaseFactory(facility=facility),
                                     admitted_at=utcnow() - timedelta(days=40))
    weigh(animal, 5000, at=utcnow() - timedelta(days=30))
    _prescription(animal, dr)
    db.session.commit()
    login("vet")
    html = client.get(f"/animals/{animal.id}").get_data(as_text=True)
    assert 'data-testid="stale-weight"' in html


def test_exams_and_lab_results_are_listed_pending_first_with_their_file(client, login, db, patient, dr):
    _exam(patient, dr)
    done = _lab(patient, dr, test="Faecal parasitology", interpretation="positive")
    _lab(patient, dr, test="Tuberculin skin test")
    report = Attachment(animal_id=patient.id, kind="document", stored_name="lab-report-1.pdf",
                        content_type="application/pdf", size_bytes=100, original_name="report.pdf")
    db.session.add(report)
    db.session.flush()
    done.attachment_id = report.id
    db.session.commit()
    login("vet")
    html = client.get(f"/animals/{patient.id}").get_data(as_text=True)
    exams = _section(html, "exams")
    assert "Dr Sokha" in exams and "6000 g" in exams and "38.5 °C" in exams and "Assessment 0" in exams
    labs = _section(html, "lab-results")
    assert labs.index("Tuberculin skin test") < labs.index("Faecal parasitology"), "pending first"
    assert f'href="/attachments/{report.id}"' in labs and "positive" in labs
    quarantine = _section(html, "quarantine-tests")
    assert "pending" in quarantine and "positive" in quarantine


def test_a_lots_deaths_show_cause_count_and_necropsy(client, login, db, lot, dr):
    outcome = deaths.record_death(lot, user=dr, occurred_at=utcnow() - timedelta(hours=3), count=3,
                                  cause="Shell rot")
    deaths.add_necropsy_findings(outcome, findings="Septicaemia", user=dr)
    db.session.commit()
    login("vet")
    html = client.get(f"/animals/{lot.id}").get_data(as_text=True)
    death = _section(html, "death")
    assert "3 animals" in death and "Shell rot" in death and "Septicaemia" in death
    assert f'href="/outcomes/{outcome.id}/necropsy"' in death
    timeline = _section(html, "timeline")
    assert "Died: 3 animals" in timeline


# --- the timeline ----------------------------------------------------------------------------

def test_the_timeline_shows_exams_prescriptions_lab_results_and_problems(client, login, db, patient, dr):
    services.record_exam(patient, user=dr, now=utcnow(), findings="Thin", assessment="Bright and alert")
    prescription = _prescription(patient, dr)
    stop_prescription(prescription, user=dr, reason="Course changed", now=utcnow())
    lab = _lab(patient, dr, test="Faecal parasitology")
    services.record_lab_outcome(lab, user=dr, now=utcnow(), interpretation="negative", result="No ova seen")
    services.add_problem(patient, user=dr, now=utcnow(), diagnosis="Diarrhoea", onset_on=_today())
    db.session.commit()
    login("viewer")
    html = client.get(f"/animals/{patient.id}").get_data(as_text=True)
    timeline = html[html.index('data-testid="timeline"'):]
    assert "Exam by Dr Sokha: Bright and alert" in timeline
    assert "Prescribed Meloxicam 1.2 mg = 0.8 ml PO BID, 3 days" in timeline
    assert "Stopped Meloxicam" in timeline and "Course changed" in timeline
    assert "Sample taken: Faecal parasitology" in timeline
    assert "Result: Faecal parasitology negative" in timeline and "No ova seen" in timeline
    assert "Problem: Diarrhoea" in timeline


def test_quarantine_clearance_is_on_the_timeline_and_in_the_panel(client, login, db, patient, dr):
    for test in ("Faecal parasitology", "Tuberculin skin test"):
        _lab(patient, dr, test=test, interpretation="negative")
    clear_quarantine(patient, user=dr, notes="All clear", now=utcnow())
    db.session.commit()
    login("vet")
    html = client.get(f"/animals/{patient.id}").get_data(as_text=True)
    assert 'data-testid="header-quarantine"' not in html
    assert "Cleared on" in _section(html, "medical-quarantine")
    assert 'data-testid="clear-quarantine"' not in html
    timeline = html[html.index('data-testid="timeline"'):]
    assert "Quarantine cleared" in timeline and "All clear" in timeline and "Dr Sokha" in timeline
