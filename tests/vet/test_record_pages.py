"""The vet's record pages: exam, problem and its edit, prescription and its stop, lab result and its outcome.

Each page: a vet's GET and POST store the record and redirect with a flash; bad input
re-renders the form with the message and what was typed; keepers and viewers get 403;
a vet of another facility gets 404. The pages read the real clock, so weights and
dates are made relative to utcnow().
"""

import io
import os
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.animals.models import Attachment
from app.care.models import CareTask, TaskStatus, Weight
from app.common.db import utcnow
from app.vet import services
from app.vet.models import Exam, LabResult, Prescription, PrescriptionStatus, Problem
from app.vet.prescriptions import prescribe
from tests import factories
from tests.reference import error_next_to
from tests.vet.conftest import weigh

ZONE = ZoneInfo("Asia/Phnom_Penh")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def _today():
    return utcnow().astimezone(ZONE).date()


def _fresh_weight(db, animal, grams=6000, days_ago=1):
    weight = weigh(animal, grams, at=utcnow() - timedelta(days=days_ago))
    db.session.commit()
    return weight


def _prescription_form(**changes) -> dict:
    data = {"drug": "Meloxicam", "dose_mg_per_kg": "0.2", "concentration_mg_per_ml": "1.5", "route": "PO",
            "frequency": "BID", "every_hours": "", "starts_on": _today().isoformat(), "days": "5",
            "instructions": "With food.", "keeper_may_give": "y"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _uploads(app) -> set[str]:
    """Every stored file under UPLOAD_DIR (attachments sit in sub-folders)."""
    root = app.config["UPLOAD_DIR"]
    return {os.path.join(folder, name) for folder, _dirs, names in os.walk(root) for name in names}


# --- exams -----------------------------------------------------------------------------

def test_a_vet_records_an_exam_with_a_weight_in_the_facilitys_time(client, login, db, animal):
    login("vet")
    page = client.get(f"/animals/{animal.id}/exams/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="exam-form"' in html and 'data-testid="animal-header"' in html
    assert f'value="{_today().isoformat()}T' in html, "examined at defaults to now, local time"

    local = (utcnow() - timedelta(hours=1)).astimezone(ZONE).replace(second=0, microsecond=0)
    response = client.post_form(f"/animals/{animal.id}/exams/new", {
        "examined_at": local.strftime("%Y-%m-%dT%H:%M"), "weight_g": "6100", "bcs": "5", "temperature_c": "38.4",
        "findings": "Alert, mild dehydration.", "assessment": "Stress of transport.", "plan": "Fluids, recheck."})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/animals/{animal.id}")
    assert any("Exam of" in message for _c, message in _flashes(client))
    db.session.expire_all()
    exam = db.session.execute(select(Exam).where(Exam.animal_id == animal.id)).scalar_one()
    assert exam.examined_at == local.astimezone(ZONE)
    assert (exam.temperature_c, exam.weight_g, exam.bcs) == (Decimal("38.4"), Decimal("6100"), 5)
    assert exam.findings == "Alert, mild dehydration." and exam.plan == "Fluids, recheck."
    weight = db.session.get(Weight, exam.weight_id)
    assert weight.grams == Decimal("6100") and weight.measured_at == exam.examined_at


@pytest.mark.parametrize("temperature", ["99", "NaN"])
def test_an_impossible_temperature_is_refused_and_what_was_typed_is_kept(client, login, db, animal, temperature):
    login("vet")
    response = client.post_form(f"/animals/{animal.id}/exams/new",
                                {"temperature_c": temperature, "findings": "Shivering in the corner."})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_next_to(html, "temperature_c", "A body temperature in °C between 5 and 50.")
    assert f'value="{temperature}"' in html and "Shivering in the corner." in html
    assert _count(db, Exam) == 0


def test_an_exam_without_anything_recorded_or_in_the_future_is_refused(client, login, db, animal):
    login("vet")
    response = client.post_form(f"/animals/{animal.id}/exams/new", {"findings": ""})
    assert response.status_code == 422
    assert "Record at least the findings, a weight or a temperature." in response.get_data(as_text=True)
    later = (utcnow() + timedelta(hours=3)).astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")
    response = client.post_form(f"/animals/{animal.id}/exams/new", {"examined_at": later, "findings": "Fine."})
    assert response.status_code == 422
    assert error_next_to(response.get_data(as_text=True), "examined_at", "This time is in the future.")
    response = client.post_form(f"/animals/{animal.id}/exams/new", {"weight_g": "heavy", "findings": "Fine."})
    assert response.status_code == 422 and 'value="heavy"' in response.get_data(as_text=True)
    assert _count(db, Exam) == 0


def test_an_expired_security_check_keeps_what_was_typed(client, login, db, animal):
    login("vet")
    response = client.post(f"/animals/{animal.id}/exams/new",
                           data={"csrf_token": "stale", "findings": "Long notes typed over an hour."})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-testid="csrf-expired"' in html and "Long notes typed over an hour." in html
    assert _count(db, Exam) == 0


# --- problems --------------------------------------------------------------------------

def test_a_vet_adds_a_problem_and_resolves_it(client, login, db, animal):
    login("vet")
    assert client.get(f"/animals/{animal.id}/problems/new").status_code == 200
    onset = (_today() - timedelta(days=3)).isoformat()
    response = client.post_form(f"/animals/{animal.id}/problems/new",
                                {"diagnosis": "Strongyloidiasis", "onset_on": onset, "notes": "Seen on faecal."})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/animals/{animal.id}")
    db.session.expire_all()
    problem = db.session.execute(select(Problem).where(Problem.animal_id == animal.id)).scalar_one()
    assert (problem.diagnosis, problem.onset_on.isoformat(), problem.status) == ("Strongyloidiasis", onset, "active")

    page = client.get(f"/problems/{problem.id}/edit").get_data(as_text=True)
    assert f'name="version" type="hidden" value="{problem.version}"' in page and 'value="Strongyloidiasis"' in page
    response = client.post_form(f"/problems/{problem.id}/edit", {
        "diagnosis": "Strongyloidiasis", "onset_on": onset, "notes": "Clear on recheck.", "status": "resolved",
        "resolved_on": "", "version": str(problem.version)})
    assert response.status_code == 302
    db.session.expire_all()
    problem = db.session.get(Problem, problem.id)
    assert (problem.status, problem.resolved_on, problem.notes) == ("resolved", _today(), "Clear on recheck.")


def test_a_problem_needs_a_diagnosis_and_cannot_be_resolved_before_its_onset(client, login, db, animal):
    login("vet")
    response = client.post_form(f"/animals/{animal.id}/problems/new", {"diagnosis": "", "notes": "Limping."})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_next_to(html, "diagnosis", "Give the diagnosis (or the problem as far as it is known).")
    assert "Limping." in html and _count(db, Problem) == 0

    problem = services.add_problem(animal, user=None, diagnosis="Wound", onset_on=_today())
    db.session.commit()
    yesterday = (_today() - timedelta(days=1)).isoformat()
    response = client.post_form(f"/problems/{problem.id}/edit", {
        "diagnosis": "Bite wound", "onset_on": _today().isoformat(), "status": "resolved",
        "resolved_on": yesterday, "version": str(problem.version)})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_next_to(html, "resolved_on", "The problem cannot be resolved before its onset.")
    assert 'value="Bite wound"' in html
    db.session.expire_all()
    assert db.session.get(Problem, problem.id).diagnosis == "Wound"


def test_a_stale_problem_edit_shows_the_conflict_and_keeps_the_typing(client, login, db, animal):
    problem = services.add_problem(animal, user=None, diagnosis="Diarrhoea")
    db.session.commit()
    old_version = problem.version
    services.update_problem(problem, {"diagnosis": "Diarrhoea, giardia"}, user=None)
    db.session.commit()
    login("vet")
    response = client.post_form(f"/problems/{problem.id}/edit", {
        "diagnosis": "Diarrhoea, bacterial", "notes": "Mine", "status": "active", "version": str(old_version)})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'data-testid="conflict"' in html and "Diarrhoea, giardia" in html
    assert 'value="Diarrhoea, bacterial"' in html, "what was typed is kept"
    db.session.expire_all()
    assert db.session.get(Problem, problem.id).diagnosis == "Diarrhoea, giardia"
    # The form now carries the current version: saving again is deliberate and goes through.
    response = client.post_form(f"/problems/{problem.id}/edit", {
        "diagnosis": "Diarrhoea, bacterial", "status": "active", "version": str(problem.version)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Problem, problem.id).diagnosis == "Diarrhoea, bacterial"


# --- prescriptions ---------------------------------------------------------------------

def test_a_vet_prescribes_from_the_latest_weight_and_the_doses_are_on_the_round(client, login, db, animal):
    weight = _fresh_weight(db, animal)
    login("vet")
    page = client.get(f"/animals/{animal.id}/prescriptions/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="latest-weight"' in html and "6000 g" in html
    assert 'data-testid="weigh-first"' not in html
    assert f'value="{_today().isoformat()}"' in html, "the course starts today unless said otherwise"

    response = client.post_form(f"/animals/{animal.id}/prescriptions/new", _prescription_form())
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/animals/{animal.id}")
    weighed = weight.measured_at.astimezone(ZONE).date().isoformat()
    assert ("success", f"Meloxicam 1.2 mg = 0.8 ml PO BID, 10 doses from {_today().isoformat()} "
                       f"(weight 6000 g on {weighed}).") in _flashes(client)
    db.session.expire_all()
    prescription = db.session.execute(select(Prescription).where(Prescription.animal_id == animal.id)).scalar_one()
    assert (prescription.dose_mg, prescription.volume_ml, prescription.doses) == (Decimal("1.2"), Decimal("0.8"), 10)
    assert prescription.keeper_may_give and prescription.instructions == "With food."
    assert _count(db, CareTask, CareTask.schedule_id == prescription.schedule_id, CareTask.kind == "medicate") == 10


def test_an_old_weight_is_used_with_a_warning(client, login, db, animal):
    # The fixture's weight is from June 2026 (tests/vet/conftest.py NOW): months before the real clock.
    login("vet")
    html = client.get(f"/animals/{animal.id}/prescriptions/new").get_data(as_text=True)
    assert 'data-testid="weigh-first"' in html and "Weigh the animal first." in html
    assert f"/animals/{animal.id}/weights/new" in html and f"/animals/{animal.id}/exams/new" in html
    response = client.post_form(f"/animals/{animal.id}/prescriptions/new", _prescription_form())
    assert response.status_code == 302
    warnings = [message for category, message in _flashes(client) if category == "warning"]
    assert len(warnings) == 1 and "days old" in warnings[0]
    db.session.expire_all()
    assert db.session.execute(select(Prescription.weight_was_stale)).scalar_one() is True


def test_a_prescription_without_a_weight_is_refused_and_the_form_kept(client, login, db, facility):
    unweighed = factories.AnimalFactory(case=factories.CaseFactory(facility=facility))
    db.session.commit()
    login("vet")
    html = client.get(f"/animals/{unweighed.id}/prescriptions/new").get_data(as_text=True)
    assert "Weigh the animal first." in html and "No weight is recorded" in html
    response = client.post_form(f"/animals/{unweighed.id}/prescriptions/new",
                                _prescription_form(drug="Enrofloxacin", dose_mg_per_kg="10"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f"{unweighed.accession_number} has no weight recorded." in html
    assert 'value="Enrofloxacin"' in html and 'value="10"' in html and "With food." in html
    assert _count(db, Prescription) == 0


def test_a_frequency_off_the_daily_clock_is_refused_and_every_8_hours_is_taken(client, login, db, animal):
    _fresh_weight(db, animal)
    login("vet")
    response = client.post_form(f"/animals/{animal.id}/prescriptions/new",
                                _prescription_form(frequency="q", every_hours="5"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "SID, BID, TID, QID, or every N hours" in html and 'value="5"' in html
    assert _count(db, Prescription) == 0
    response = client.post_form(f"/animals/{animal.id}/prescriptions/new",
                                _prescription_form(frequency="", route="", dose_mg_per_kg="-1"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_next_to(html, "route", "Choose the route.")
    assert error_next_to(html, "dose_mg_per_kg", "A number greater than 0.")
    assert _count(db, Prescription) == 0

    response = client.post_form(f"/animals/{animal.id}/prescriptions/new",
                                _prescription_form(frequency="q", every_hours="8", days="2"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.execute(select(Prescription.frequency, Prescription.doses)).one() == ("q8h", 6)


def test_stopping_a_prescription_cancels_its_doses_to_come(client, login, db, animal):
    _fresh_weight(db, animal)
    now = utcnow()
    prescription, _warnings = prescribe(animal, user=None, now=now, drug="Amoxicillin", dose_mg_per_kg="15",
                                        route="PO", frequency="BID", days=5)
    db.session.commit()
    login("vet")
    page = client.get(f"/prescriptions/{prescription.id}/stop")
    assert page.status_code == 200 and "Amoxicillin" in page.get_data(as_text=True)
    to_come = _count(db, CareTask, CareTask.schedule_id == prescription.schedule_id,
                     CareTask.status == TaskStatus.OPEN, CareTask.due_at >= utcnow())
    assert to_come >= 8

    response = client.post_form(f"/prescriptions/{prescription.id}/stop", {"reason": "Culture: resistant."})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/animals/{animal.id}")
    assert ("success", f"Amoxicillin stopped: {to_come} doses still to come were cancelled.") in _flashes(client)
    db.session.expire_all()
    stopped = db.session.get(Prescription, prescription.id)
    assert (stopped.status, stopped.stop_reason) == (PrescriptionStatus.STOPPED, "Culture: resistant.")
    assert _count(db, CareTask, CareTask.schedule_id == prescription.schedule_id,
                  CareTask.status == TaskStatus.CANCELLED) == to_come
    assert _count(db, CareTask, CareTask.schedule_id == prescription.schedule_id,
                  CareTask.status == TaskStatus.OPEN, CareTask.due_at >= utcnow()) == 0

    # Stopped twice: the page says so, never a 500.
    assert 'data-testid="already-stopped"' in client.get(f"/prescriptions/{prescription.id}/stop").get_data(
        as_text=True)
    response = client.post_form(f"/prescriptions/{prescription.id}/stop", {"reason": "Again"})
    assert response.status_code == 422
    assert "This prescription was already stopped." in response.get_data(as_text=True)


# --- lab results -----------------------------------------------------------------------

def test_a_pending_sample_then_its_result_with_the_lab_report(client, login, db, animal):
    login("vet")
    page = client.get(f"/animals/{animal.id}/lab-results/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and '<option value="herpes B serology">' in html
    response = client.post_form(f"/animals/{animal.id}/lab-results/new", {
        "test": "faecal parasitology", "sampled_on": _today().isoformat(), "interpretation": "", "result": ""})
    assert response.status_code == 302
    db.session.expire_all()
    lab = db.session.execute(select(LabResult).where(LabResult.animal_id == animal.id)).scalar_one()
    assert lab.is_pending and lab.attachment_id is None

    assert client.get(f"/lab-results/{lab.id}/result").status_code == 200
    response = client.post_form(f"/lab-results/{lab.id}/result", {
        "interpretation": "positive", "result": "Strongyloides eggs, moderate.",
        "file": (io.BytesIO(PDF), "faecal-report.pdf")})
    assert response.status_code == 302
    db.session.expire_all()
    lab = db.session.get(LabResult, lab.id)
    assert (lab.interpretation, lab.result, lab.resulted_on) == ("positive", "Strongyloides eggs, moderate.",
                                                                 _today())
    attachment = db.session.get(Attachment, lab.attachment_id)
    assert (attachment.kind, attachment.animal_id, attachment.original_name) == ("document", animal.id,
                                                                                  "faecal-report.pdf")
    # Recorded once: the page now sends the vet back to the record.
    response = client.get(f"/lab-results/{lab.id}/result")
    assert response.status_code == 302


def test_a_result_with_its_pdf_in_one_go(client, login, db, animal):
    login("vet")
    response = client.post_form(f"/animals/{animal.id}/lab-results/new", {
        "test": "tuberculin test", "sampled_on": _today().isoformat(), "interpretation": "negative",
        "result": "No reaction at 72 h.", "file": (io.BytesIO(PDF), "tb.pdf")})
    assert response.status_code == 302
    db.session.expire_all()
    lab = db.session.execute(select(LabResult)).scalar_one()
    assert (lab.test, lab.interpretation) == ("tuberculin test", "negative") and lab.attachment_id is not None


def test_a_text_file_named_pdf_is_refused_and_the_form_kept(app, client, login, db, animal):
    login("vet")
    before = _uploads(app)
    response = client.post_form(f"/animals/{animal.id}/lab-results/new", {
        "test": "haematology", "sampled_on": _today().isoformat(), "interpretation": "inconclusive",
        "result": "Clotted sample.", "file": (io.BytesIO(b"just some text, not a PDF\n"), "cbc.pdf")})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_next_to(html, "file", "This file is not a JPEG, PNG or WebP photo, nor a PDF document.")
    assert 'value="haematology"' in html and "Clotted sample." in html
    assert '<option selected value="inconclusive">' in html
    assert _count(db, LabResult) == 0 and _count(db, Attachment) == 0
    assert _uploads(app) == before


def test_a_good_file_with_a_refused_form_is_not_kept(app, client, login, db, animal):
    login("vet")
    before = _uploads(app)
    tomorrow = (_today() + timedelta(days=1)).isoformat()
    response = client.post_form(f"/animals/{animal.id}/lab-results/new", {
        "test": "haematology", "sampled_on": tomorrow, "file": (io.BytesIO(PDF), "cbc.pdf")})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_next_to(html, "sampled_on", "This date is in the future.")
    assert "choose it again" in html
    assert _count(db, LabResult) == 0 and _count(db, Attachment) == 0
    assert _uploads(app) == before, "the stored file of the refused result was removed"


def test_a_result_needs_an_interpretation(client, login, db, animal):
    lab = services.add_lab_result(animal, user=None, test="avian influenza PCR", sampled_on=_today())
    db.session.commit()
    login("vet")
    response = client.post_form(f"/lab-results/{lab.id}/result", {"interpretation": "", "result": "Ct 38"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_next_to(html, "interpretation", "Choose negative, positive or inconclusive.")
    assert "Ct 38" in html
    db.session.expire_all()
    assert db.session.get(LabResult, lab.id).is_pending


# --- who may -----------------------------------------------------------------------------

@pytest.fixture
def records(db, animal):
    """One of each record the pages act on, and each page's URL with a valid POST body."""
    _fresh_weight(db, animal)
    problem = services.add_problem(animal, user=None, diagnosis="Wound")
    prescription, _warnings = prescribe(animal, user=None, drug="Meloxicam", dose_mg_per_kg="0.2", route="PO",
                                        frequency="SID", days=3)
    lab = services.add_lab_result(animal, user=None, test="haematology", sampled_on=_today())
    db.session.commit()
    today = _today().isoformat()
    return {
        "exam": (f"/animals/{animal.id}/exams/new", {"findings": "Fine."}),
        "problem": (f"/animals/{animal.id}/problems/new", {"diagnosis": "Lice"}),
        "edit_problem": (f"/problems/{problem.id}/edit",
                         {"diagnosis": "Bite", "status": "active", "version": str(problem.version)}),
        "prescription": (f"/animals/{animal.id}/prescriptions/new",
                         {"drug": "Meloxicam", "dose_mg_per_kg": "0.2", "route": "PO", "frequency": "SID",
                          "days": "3"}),
        "stop": (f"/prescriptions/{prescription.id}/stop", {"reason": "Done"}),
        "lab": (f"/animals/{animal.id}/lab-results/new", {"test": "haematology", "sampled_on": today}),
        "lab_result": (f"/lab-results/{lab.id}/result", {"interpretation": "negative"}),
    }


PAGES = ("exam", "problem", "edit_problem", "prescription", "stop", "lab", "lab_result")


@pytest.mark.parametrize("role", ["keeper", "viewer", "coordinator"])
def test_only_vets_write_medical_records(client, login, db, records, role):
    login(role)
    for page in PAGES:
        url, body = records[page]
        assert client.get(url).status_code == 403, page
        assert client.post_form(url, body).status_code == 403, page
    assert _count(db, Exam) == 0 and _count(db, Problem) == 1 and _count(db, LabResult) == 1


def test_a_vet_of_another_facility_gets_404(client, login, db, records, other_facility):
    login("vet", facilities=[other_facility])
    for page in PAGES:
        url, body = records[page]
        assert client.get(url).status_code == 404, page
        assert client.post_form(url, body).status_code == 404, page
    assert _count(db, Exam) == 0 and _count(db, Prescription, Prescription.status == "stopped") == 0


def test_the_minimal_bodies_are_accepted_from_a_vet(client, login, db, records):
    login("vet")
    for page in PAGES:
        url, body = records[page]
        assert client.get(url).status_code == 200, page
        response = client.post_form(url, body)
        assert response.status_code == 302, (page, response.get_data(as_text=True)[:3000])
