"""Exams (their weight joins the weight history), the problem list, lab results pending then interpreted."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.animals.models import AnimalStatus
from app.care.models import Weight
from app.extensions import db
from app.vet.models import Exam, LabResult, Problem, ProblemStatus
from app.vet.services import (
    VetError,
    add_lab_result,
    add_problem,
    latest_weight,
    record_exam,
    record_lab_outcome,
    update_problem,
)
from tests.vet.conftest import NOW, weigh

TODAY = date(2026, 6, 10)  # NOW in Phnom Penh
# 20:00 UTC on the 10th is 03:00 on the 11th in Phnom Penh: the facility's today is not UTC's.
LATE = datetime(2026, 6, 10, 20, 0, tzinfo=UTC)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- exams ---------------------------------------------------------------------------------

def test_an_exam_weight_joins_the_weight_history_and_is_the_latest(animal, signed_in):
    vet = signed_in()
    at = NOW - timedelta(hours=1)
    exam = record_exam(animal, user=vet, examined_at=at, weight_g="5200", bcs=4, temperature_c="38.64",
                       findings="Healing snare wound.", now=NOW)
    weight = db.session.get(Weight, exam.weight_id)
    assert (weight.animal_id, weight.grams, weight.bcs, weight.measured_at) == (animal.id, Decimal("5200"), 4, at)
    assert weight.recorded_by_id == vet.id and weight.recorded_at == NOW
    assert (exam.weight_g, exam.bcs, exam.temperature_c) == (Decimal("5200"), 4, Decimal("38.6"))
    assert exam.examined_by_id == vet.id and exam.facility_id == animal.facility_id
    assert latest_weight(animal.id).id == weight.id
    assert _count(Weight) == 2


def test_an_exam_weight_measured_before_the_latest_weighing_does_not_replace_it(animal, signed_in):
    latest = weigh(animal, 6100, at=NOW - timedelta(hours=2))
    record_exam(animal, user=signed_in(), examined_at=NOW - timedelta(days=1), weight_g=5900, now=NOW)
    assert latest_weight(animal.id).id == latest.id


def test_an_exam_without_a_weight_adds_no_weighing(animal, signed_in):
    exam = record_exam(animal, user=signed_in(), findings="Bright and alert.", now=NOW)
    assert exam.weight_id is None and exam.bcs is None and exam.examined_at == NOW
    assert _count(Weight) == 1


@pytest.mark.parametrize("temperature", ["4.9", "50.1", "-38", "hot", "NaN", "sNaN", "Infinity", "1e400"])
def test_a_temperature_out_of_range_is_refused(animal, signed_in, temperature):
    with pytest.raises(VetError) as refused:
        record_exam(animal, user=signed_in(), temperature_c=temperature, findings="Quiet.", now=NOW)
    assert set(refused.value.fields) == {"temperature_c"}
    assert _count(Exam) == 0


@pytest.mark.parametrize("temperature", ["5", "50", Decimal("38.6"), 41])
def test_a_temperature_in_range_is_kept(animal, signed_in, temperature):
    exam = record_exam(animal, user=signed_in(), temperature_c=temperature, now=NOW)
    assert exam.temperature_c == Decimal(str(temperature)).quantize(Decimal("0.1"))


@pytest.mark.parametrize(("examined_at", "field"), [
    (NOW + timedelta(minutes=1), "examined_at"),
    (datetime(2026, 6, 10, 9, 0), "examined_at"),  # no time zone
    (NOW - timedelta(days=8), "examined_at"),  # before the animal was admitted
])
def test_an_exam_in_the_future_or_before_admission_is_refused(animal, signed_in, examined_at, field):
    with pytest.raises(VetError) as refused:
        record_exam(animal, user=signed_in(), examined_at=examined_at, weight_g=6000, findings="x", now=NOW)
    assert set(refused.value.fields) == {field}
    assert (_count(Exam), _count(Weight)) == (0, 1)


def test_an_empty_exam_is_refused(animal, signed_in):
    with pytest.raises(VetError) as refused:
        record_exam(animal, user=signed_in(), findings="  ", assessment="", plan=None, now=NOW)
    assert set(refused.value.fields) == {"findings"}
    assert _count(Exam) == 0


@pytest.mark.parametrize(("values", "field"), [
    ({"bcs": 4}, "weight_g"), ({"weight_g": 0}, "weight_g"), ({"weight_g": "heavy"}, "weight_g"),
    ({"weight_g": 6000, "bcs": 10}, "bcs"),
])
def test_a_bad_exam_weight_stores_nothing(animal, signed_in, values, field):
    with pytest.raises(VetError) as refused:
        record_exam(animal, user=signed_in(), findings="Thin.", now=NOW, **values)
    assert field in refused.value.fields
    assert (_count(Exam), _count(Weight)) == (0, 1)


def test_exams_are_for_animals_in_care_at_the_vets_facility(animal, signed_in, other_facility):
    with pytest.raises(VetError) as refused:
        record_exam(animal, user=signed_in(facilities=[other_facility]), findings="x", now=NOW)
    assert "animal" in refused.value.fields
    animal.status = AnimalStatus.DIED
    db.session.flush()
    with pytest.raises(VetError):
        record_exam(animal, user=signed_in(), findings="x", now=NOW)
    assert _count(Exam) == 0


# --- problems ------------------------------------------------------------------------------

def test_a_problem_is_active_until_resolved(animal, signed_in):
    problem = add_problem(animal, user=signed_in(), diagnosis="Snare wound, left wrist",
                          onset_on=date(2026, 6, 7), now=NOW)
    assert (problem.status, problem.resolved_on, problem.onset_on) == (ProblemStatus.ACTIVE, None, date(2026, 6, 7))
    assert problem.facility_id == animal.facility_id


def test_resolving_a_problem_defaults_to_the_facilitys_today(animal, signed_in):
    vet = signed_in()
    problem = add_problem(animal, user=vet, diagnosis="Snare wound", onset_on=date(2026, 6, 7), now=NOW)
    update_problem(problem, {"status": "resolved"}, user=vet, now=LATE)
    assert problem.status == ProblemStatus.RESOLVED and problem.resolved_on == date(2026, 6, 11)


def test_a_problem_is_resolved_on_the_day_given(animal, signed_in):
    vet = signed_in()
    problem = add_problem(animal, user=vet, diagnosis="Snare wound", onset_on=date(2026, 6, 7), now=NOW)
    update_problem(problem, {"status": "resolved", "resolved_on": date(2026, 6, 8)}, user=vet, now=NOW)
    assert problem.resolved_on == date(2026, 6, 8)


@pytest.mark.parametrize(("values", "field"), [
    ({"status": "resolved", "resolved_on": date(2026, 6, 6)}, "resolved_on"),  # before the onset
    ({"status": "resolved", "resolved_on": date(2026, 6, 11)}, "resolved_on"),  # tomorrow
    ({"onset_on": date(2026, 6, 11)}, "onset_on"),
    ({"status": "cured"}, "status"),
    ({"diagnosis": " "}, "diagnosis"),
])
def test_a_bad_change_to_a_problem_is_refused(animal, signed_in, values, field):
    vet = signed_in()
    problem = add_problem(animal, user=vet, diagnosis="Snare wound", onset_on=date(2026, 6, 7), now=NOW)
    with pytest.raises(VetError) as refused:
        update_problem(problem, values, user=vet, now=NOW)
    assert set(refused.value.fields) == {field}
    assert (problem.status, problem.resolved_on, problem.diagnosis) == (ProblemStatus.ACTIVE, None, "Snare wound")


def test_an_onset_moved_after_the_resolution_is_refused(animal, signed_in):
    vet = signed_in()
    problem = add_problem(animal, user=vet, diagnosis="Diarrhoea", onset_on=date(2026, 6, 4), status="resolved",
                          resolved_on=date(2026, 6, 6), now=NOW)
    with pytest.raises(VetError) as refused:
        update_problem(problem, {"onset_on": date(2026, 6, 8)}, user=vet, now=NOW)
    assert set(refused.value.fields) == {"resolved_on"}


def test_reopening_a_problem_clears_its_resolution(animal, signed_in):
    vet = signed_in()
    problem = add_problem(animal, user=vet, diagnosis="Diarrhoea", status="resolved", now=NOW)
    assert problem.resolved_on == TODAY
    update_problem(problem, {"status": "active"}, user=vet, now=NOW)
    assert (problem.status, problem.resolved_on) == (ProblemStatus.ACTIVE, None)


def test_a_new_problem_needs_a_diagnosis_and_no_future_onset(animal, signed_in):
    vet = signed_in()
    with pytest.raises(VetError) as refused:
        add_problem(animal, user=vet, diagnosis="", onset_on=date(2026, 6, 11), now=NOW)
    assert set(refused.value.fields) == {"diagnosis", "onset_on"}
    assert _count(Problem) == 0


def test_problems_are_for_the_vets_own_facility(animal, signed_in, make_user, other_facility):
    vet = signed_in()
    stranger = make_user("vet", facilities=[other_facility])
    with pytest.raises(VetError):
        add_problem(animal, user=stranger, diagnosis="Snare wound", now=NOW)
    problem = add_problem(animal, user=vet, diagnosis="Snare wound", now=NOW)
    with pytest.raises(VetError):
        update_problem(problem, {"status": "resolved"}, user=stranger, now=NOW)
    assert problem.status == ProblemStatus.ACTIVE and _count(Problem) == 1


# --- lab results ---------------------------------------------------------------------------

def test_a_lab_result_is_pending_until_its_outcome_is_recorded(animal, signed_in):
    vet = signed_in()
    lab = add_lab_result(animal, user=vet, test="Faecal parasitology", sampled_on=date(2026, 6, 9),
                         resulted_on=date(2026, 6, 9), now=NOW)
    assert lab.is_pending and lab.resulted_on is None and lab.interpretation is None
    record_lab_outcome(lab, user=vet, interpretation="positive", result="Strongyle eggs ++", now=LATE)
    assert not lab.is_pending
    assert (lab.interpretation, lab.result, lab.resulted_on) == ("positive", "Strongyle eggs ++", date(2026, 6, 11))


def test_a_result_known_at_once_is_recorded_with_the_sample(animal, signed_in):
    lab = add_lab_result(animal, user=signed_in(), test="Malaria smear", sampled_on=TODAY, interpretation="negative",
                         now=NOW)
    assert lab.interpretation == "negative" and lab.resulted_on == TODAY


def test_a_second_outcome_is_refused(animal, signed_in):
    vet = signed_in()
    lab = add_lab_result(animal, user=vet, test="Tuberculin test", sampled_on=TODAY, now=NOW)
    record_lab_outcome(lab, user=vet, interpretation="negative", now=NOW)
    with pytest.raises(VetError) as refused:
        record_lab_outcome(lab, user=vet, interpretation="positive", now=NOW)
    assert set(refused.value.fields) == {"interpretation"}
    assert lab.interpretation == "negative"


@pytest.mark.parametrize("interpretation", [None, "", "maybe"])
def test_an_outcome_needs_an_interpretation(animal, signed_in, interpretation):
    vet = signed_in()
    lab = add_lab_result(animal, user=vet, test="Tuberculin test", sampled_on=TODAY, now=NOW)
    with pytest.raises(VetError) as refused:
        record_lab_outcome(lab, user=vet, interpretation=interpretation, now=NOW)
    assert set(refused.value.fields) == {"interpretation"}
    assert lab.is_pending


@pytest.mark.parametrize(("values", "fields"), [
    ({"test": "", "sampled_on": TODAY}, {"test"}),
    ({"test": "Serology", "sampled_on": None}, {"sampled_on"}),
    ({"test": "Serology", "sampled_on": date(2026, 6, 11)}, {"sampled_on"}),
    ({"test": "Serology", "sampled_on": TODAY, "interpretation": "unclear"}, {"interpretation"}),
])
def test_a_bad_lab_result_stores_nothing(animal, signed_in, values, fields):
    with pytest.raises(VetError) as refused:
        add_lab_result(animal, user=signed_in(), now=NOW, **values)
    assert set(refused.value.fields) == fields
    assert _count(LabResult) == 0


@pytest.mark.parametrize("resulted_on", [date(2026, 6, 11), date(2026, 6, 8)])  # tomorrow; before the sample
def test_a_result_dated_in_the_future_or_before_its_sample_is_refused(animal, signed_in, resulted_on):
    vet = signed_in()
    with pytest.raises(VetError) as refused:
        add_lab_result(animal, user=vet, test="Serology", sampled_on=date(2026, 6, 9), interpretation="negative",
                       resulted_on=resulted_on, now=NOW)
    assert set(refused.value.fields) == {"resulted_on"}
    lab = add_lab_result(animal, user=vet, test="Serology", sampled_on=date(2026, 6, 9), now=NOW)
    with pytest.raises(VetError) as refused:
        record_lab_outcome(lab, user=vet, interpretation="negative", resulted_on=resulted_on, now=NOW)
    assert set(refused.value.fields) == {"resulted_on"}
    assert lab.is_pending and lab.resulted_on is None


def test_lab_results_are_for_the_vets_own_facility(animal, signed_in, make_user, other_facility):
    vet = signed_in()
    stranger = make_user("vet", facilities=[other_facility])
    with pytest.raises(VetError):
        add_lab_result(animal, user=stranger, test="Serology", sampled_on=TODAY, now=NOW)
    lab = add_lab_result(animal, user=vet, test="Serology", sampled_on=TODAY, now=NOW)
    with pytest.raises(VetError):
        record_lab_outcome(lab, user=stranger, interpretation="negative", now=NOW)
    assert lab.is_pending and _count(LabResult) == 1
