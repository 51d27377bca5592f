"""Deaths, euthanasia (and the evidence hold's authorisation), necropsies, through the vet's pages.

A death is a fact a vet records; a lot loses only the count that died. A euthanasia
needs a reason, and under an evidence hold a coordinator's authorisation, used once.
For every record, intake_quantity == quantity + the outcomes' counts + what was split
off. The pages read the real clock, so times here are relative to utcnow().
"""

import html as htmllib
import io
import os
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.animals import services as animal_services
from app.animals.models import Attachment, Case, Outcome
from app.animals.outcomes import outcomes_of, record_outcome
from app.animals.services import split_off_total
from app.care.models import CareTask, TaskStatus
from app.common.db import utcnow
from app.vet.deaths import record_death, record_euthanasia
from app.vet.models import EuthanasiaAuthorisation, Prescription, PrescriptionStatus
from app.vet.prescriptions import prescribe
from tests.reference import error_next_to
from tests.vet.conftest import weigh

ZONE = ZoneInfo("Asia/Phnom_Penh")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def _local(hours_ago=1) -> str:
    """A time typed on the page: the facility's wall clock, `hours_ago` before now."""
    return (utcnow() - timedelta(hours=hours_ago)).astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 60)).save(out, "PNG")
    return out.getvalue()


def _uploads(app) -> set[str]:
    """Every stored file's name, in whatever folders the store keeps them."""
    return {name for _dir, _subdirs, names in os.walk(app.config["UPLOAD_DIR"]) for name in names}


def _open_tasks(db, animal) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(CareTask)
                             .where(CareTask.animal_id == animal.id, CareTask.status == TaskStatus.OPEN))


def _treat(db, animal, grams, vet):
    """A fresh weight and a five-day course of twice-daily meloxicam: open medicate tasks."""
    weigh(animal, grams, at=utcnow() - timedelta(days=1))
    prescription, _warnings = prescribe(animal, user=vet, drug="Meloxicam", dose_mg_per_kg="0.2", route="PO",
                                        frequency="BID", days=5)
    db.session.commit()
    return prescription


# --- deaths ---------------------------------------------------------------------------------

def test_the_death_of_an_individual_ends_its_care(client, login, db, animal, signed_in, app):
    prescription = _treat(db, animal, 6000, signed_in("vet"))
    assert _open_tasks(db, animal) > 0
    vet = login("vet")
    page = client.get(f"/animals/{animal.id}/death/new")
    assert page.status_code == 200 and 'data-testid="death-form"' in page.get_data(as_text=True)
    assert 'name="count"' not in page.get_data(as_text=True), "an individual has no count to give"
    before = _uploads(app)
    typed = _local(2)  # read once: the minute may turn while the test runs
    response = client.post_form(f"/animals/{animal.id}/death/new", {
        "occurred_at": typed, "cause": "Found dead: pneumonia suspected", "notes": "Keeper's morning round",
        "files": [(io.BytesIO(PDF), "necropsy.pdf"), (io.BytesIO(_png()), "lungs.png")]})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/animals/{animal.id}")
    db.session.expire_all()
    assert (animal.status, animal.quantity) == ("died", 0)
    (outcome,) = outcomes_of(animal.id)
    assert (outcome.kind, outcome.count, outcome.cause) == ("died", 1, "Found dead: pneumonia suspected")
    assert outcome.recorded_by_id == vet.id and outcome.occurred_at.astimezone(ZONE).strftime(
        "%Y-%m-%dT%H:%M") == typed
    files = db.session.execute(select(Attachment).where(Attachment.outcome_id == outcome.id)).scalars().all()
    assert sorted(f.kind for f in files) == ["document", "photo"] and all(f.animal_id == animal.id for f in files)
    assert len(_uploads(app) - before) == 3  # the PDF, the photo and its thumbnail
    assert _open_tasks(db, animal) == 0
    assert db.session.get(Prescription, prescription.id).status == PrescriptionStatus.STOPPED
    again = client.post_form(f"/animals/{animal.id}/death/new", {"occurred_at": _local(1)})
    assert again.status_code == 422 and "has already left care" in _text(again)


def test_a_lots_death_takes_only_its_count(client, login, db, lot, signed_in):
    _treat(db, lot, 400, signed_in("vet"))
    open_before = _open_tasks(db, lot)
    login("vet")
    page = _text(client.get(f"/animals/{lot.id}/death/new"))
    assert 'name="count"' in page and "of 40 in care" in page
    response = client.post_form(f"/animals/{lot.id}/death/new", {"occurred_at": _local(), "count": "3",
                                                                 "cause": "Shell rot"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (lot.quantity, lot.status) == (37, "in_care")
    assert _open_tasks(db, lot) == open_before, "the 37 still in care keep their tasks"
    assert db.session.scalar(select(Prescription.status).where(Prescription.animal_id == lot.id)) == "active"

    too_many = client.post_form(f"/animals/{lot.id}/death/new", {"occurred_at": _local(), "count": "41",
                                                                 "cause": "typo"})
    assert too_many.status_code == 422
    assert error_next_to(_text(too_many), "count", "Between 1 and 37 animals.")
    assert "typo" in _text(too_many), "what was typed is kept"
    missing = client.post_form(f"/animals/{lot.id}/death/new", {"occurred_at": _local(), "count": ""})
    assert missing.status_code == 422 and error_next_to(_text(missing), "count", "Between 1 and 37 animals.")
    db.session.expire_all()
    assert lot.quantity == 37


def test_a_refused_death_keeps_no_file_and_no_outcome(client, login, db, animal, app):
    login("vet")
    before = _uploads(app)
    future = (utcnow() + timedelta(hours=3)).astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")
    response = client.post_form(f"/animals/{animal.id}/death/new", {
        "occurred_at": future, "cause": "x", "files": [(io.BytesIO(PDF), "report.pdf")]})
    assert response.status_code == 422
    assert error_next_to(_text(response), "occurred_at", "This time is in the future.")
    bad_file = client.post_form(f"/animals/{animal.id}/death/new", {
        "occurred_at": _local(), "files": [(io.BytesIO(PDF), "ok.pdf"), (io.BytesIO(b"hello"), "notes.txt")]})
    assert bad_file.status_code == 422
    assert error_next_to(_text(bad_file), "files", "This file is not a JPEG, PNG or WebP photo, nor a PDF document.")
    db.session.expire_all()
    assert animal.status == "in_care" and outcomes_of(animal.id) == []
    assert _uploads(app) == before, "the files written before the refusal are removed"


def test_only_vets_record_deaths_and_a_vet_elsewhere_gets_404(client, login, animal, other_facility):
    for role in ("keeper", "coordinator", "viewer"):
        login(role)
        assert client.get(f"/animals/{animal.id}/death/new").status_code == 403, role
        assert client.post_form(f"/animals/{animal.id}/death/new", {"occurred_at": _local()}).status_code == 403
        client.post_form("/logout")
    login("vet", facilities=[other_facility])
    assert client.get(f"/animals/{animal.id}/death/new").status_code == 404


# --- euthanasia ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["keeper", "coordinator", "admin", "viewer"])
def test_only_vets_record_a_euthanasia(client, login, animal, role):
    login(role)
    assert client.get(f"/animals/{animal.id}/euthanasia/new").status_code == 403
    response = client.post_form(f"/animals/{animal.id}/euthanasia/new", {"occurred_at": _local(), "reason": "x"})
    assert response.status_code == 403


def test_a_euthanasia_needs_a_reason(client, login, db, animal):
    vet = login("vet")
    refused = client.post_form(f"/animals/{animal.id}/euthanasia/new", {"occurred_at": _local(), "cause": "Fracture"})
    assert refused.status_code == 422
    assert error_next_to(_text(refused), "reason", "Say why the animal was euthanised.")
    assert "Fracture" in _text(refused)
    response = client.post_form(f"/animals/{animal.id}/euthanasia/new", {
        "occurred_at": _local(), "reason": "Untreatable open fracture", "cause": "Fracture"})
    assert response.status_code == 302
    (outcome,) = outcomes_of(animal.id)
    assert (outcome.kind, outcome.reason, outcome.authorised_by_id) == ("euthanized", "Untreatable open fracture",
                                                                         vet.id)
    assert outcome.hold_override_reason == "" and outcome.hold_override_by_id is None


def test_under_an_evidence_hold_a_euthanasia_waits_for_a_coordinators_authorisation(client, login, db, lot):
    case = db.session.get(Case, lot.case_id)
    animal_services.set_evidence_hold(case, active=True, reason="Trial 118/2026", user=None)
    db.session.commit()
    reference = case.reference
    vet = login("vet")
    page = _text(client.get(f"/animals/{lot.id}/euthanasia/new"))
    assert 'data-testid="authorisation-missing"' in page
    assert f"Case {reference} is under an evidence hold" in page.split('data-testid="euthanasia-form"')[0]
    form = {"occurred_at": _local(), "count": "1", "reason": "Septicaemia, suffering"}
    refused = client.post_form(f"/animals/{lot.id}/euthanasia/new", form)
    assert refused.status_code == 422
    assert f"Case {reference} is under an evidence hold: the animals are evidence" in _text(refused)
    assert "Septicaemia, suffering" in _text(refused)
    assert client.get(f"/animals/{lot.id}/euthanasia/authorise").status_code == 403, "vets do not authorise"
    client.post_form("/logout")

    coordinator = login("coordinator")
    page = client.get(f"/animals/{lot.id}/euthanasia/authorise")
    assert page.status_code == 200 and 'data-testid="authorise-form"' in page.get_data(as_text=True)
    empty = client.post_form(f"/animals/{lot.id}/euthanasia/authorise", {"reason": "  "})
    assert empty.status_code == 422
    assert error_next_to(_text(empty), "reason", "Say why the evidence hold may be overridden for this animal.")
    response = client.post_form(f"/animals/{lot.id}/euthanasia/authorise",
                                {"reason": "Prosecutor agreed by phone; photos kept"})
    assert response.status_code == 302
    client.post_form("/logout")

    login(vet)
    page = _text(client.get(f"/animals/{lot.id}/euthanasia/new"))
    assert 'data-testid="authorisation-pending"' in page and "Prosecutor agreed by phone" in page
    assert client.post_form(f"/animals/{lot.id}/euthanasia/new", form).status_code == 302
    (outcome,) = outcomes_of(lot.id)
    assert outcome.hold_override_reason == "Prosecutor agreed by phone; photos kept"
    assert outcome.hold_override_by_id == coordinator.id and outcome.authorised_by_id == vet.id
    (authorisation,) = db.session.execute(select(EuthanasiaAuthorisation)).scalars().all()
    assert authorisation.outcome_id == outcome.id

    second = client.post_form(f"/animals/{lot.id}/euthanasia/new", form)
    assert second.status_code == 422 and "under an evidence hold" in _text(second), "an authorisation is used once"
    db.session.expire_all()
    assert lot.quantity == 39


def test_authorising_without_a_hold_is_refused_and_keepers_may_not(client, login, animal):
    login("keeper")
    assert client.get(f"/animals/{animal.id}/euthanasia/authorise").status_code == 403
    assert client.post_form(f"/animals/{animal.id}/euthanasia/authorise", {"reason": "x"}).status_code == 403
    client.post_form("/logout")
    login("admin")
    assert 'data-testid="no-hold"' in client.get(f"/animals/{animal.id}/euthanasia/authorise").get_data(as_text=True)
    refused = client.post_form(f"/animals/{animal.id}/euthanasia/authorise", {"reason": "just in case"})
    assert refused.status_code == 422 and "not under an evidence hold" in _text(refused)


# --- necropsy --------------------------------------------------------------------------------

def test_a_necropsy_adds_findings_and_a_pdf_report_to_the_death(client, login, db, animal, signed_in, app):
    vet = signed_in("vet")
    outcome = record_death(animal, user=vet, occurred_at=utcnow() - timedelta(days=2), cause="Unknown",
                           necropsy_findings="Gross: enlarged spleen.")
    db.session.commit()
    login("vet")
    page = client.get(f"/outcomes/{outcome.id}/necropsy")
    assert page.status_code == 200 and "Gross: enlarged spleen." in page.get_data(as_text=True)
    response = client.post_form(f"/outcomes/{outcome.id}/necropsy", {
        "necropsy_findings": "Histology: melioidosis.", "files": [(io.BytesIO(PDF), "histology.pdf")]})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Outcome, outcome.id).necropsy_findings == "Gross: enlarged spleen.\n\nHistology: melioidosis."
    (report,) = db.session.execute(select(Attachment).where(Attachment.outcome_id == outcome.id)).scalars().all()
    assert (report.kind, report.content_type, report.animal_id) == ("document", "application/pdf", animal.id)
    assert report.original_name == "histology.pdf"
    assert "histology.pdf" in client.get(f"/outcomes/{outcome.id}/necropsy").get_data(as_text=True)
    only_file = client.post_form(f"/outcomes/{outcome.id}/necropsy", {"files": [(io.BytesIO(_png()), "spleen.png")]})
    assert only_file.status_code == 302, "the lab's file alone is enough"
    nothing = client.post_form(f"/outcomes/{outcome.id}/necropsy", {"necropsy_findings": ""})
    assert nothing.status_code == 422 and error_next_to(_text(nothing), "necropsy_findings", "Write the findings.")


def test_a_necropsy_is_for_deaths_only_and_at_ones_own_facilities(client, login, db, lot, signed_in, other_facility):
    vet = signed_in("vet")
    escaped = record_outcome(lot, kind="escaped", count=1, occurred_at=utcnow() - timedelta(hours=1), user=vet)
    died = record_euthanasia(lot, user=vet, occurred_at=utcnow() - timedelta(hours=1), reason="Moribund", count=1)
    db.session.commit()
    login("vet")
    assert client.get(f"/outcomes/{escaped.id}/necropsy").status_code == 404
    assert client.get(f"/outcomes/{died.id}/necropsy").status_code == 200
    client.post_form("/logout")
    login("keeper")
    assert client.get(f"/outcomes/{died.id}/necropsy").status_code == 403
    client.post_form("/logout")
    login("vet", facilities=[other_facility])
    assert client.get(f"/outcomes/{died.id}/necropsy").status_code == 404


# --- the quantities reconcile ------------------------------------------------------------------

def test_intake_quantity_is_quantity_plus_outcomes_plus_split_off(db, lot, signed_in, yard):
    vet = signed_in("vet")
    when = utcnow() - timedelta(hours=1)
    child = animal_services.split_animal(lot, quantity=10, enclosure=None, user=vet, reason="shell lesions")
    record_death(lot, user=vet, occurred_at=when, count=3, cause="Drowned")
    record_euthanasia(lot, user=vet, occurred_at=when, count=2, reason="Crushed shells")
    grandchild = animal_services.split_animal(child, quantity=4, enclosure=None, user=vet)
    record_death(child, user=vet, occurred_at=when, count=1)
    record_death(grandchild, user=vet, occurred_at=when, count=4)
    record_outcome(lot, kind="transferred", count=5, occurred_at=when, user=vet)
    db.session.commit()
    for record, expected_quantity in ((lot, 20), (child, 5), (grandchild, 0)):
        db.session.refresh(record)
        counted = sum(o.count for o in outcomes_of(record.id))
        assert record.quantity == expected_quantity
        assert record.intake_quantity == record.quantity + counted + split_off_total(record.id)
    assert grandchild.status == "died" and lot.status == child.status == "in_care"
