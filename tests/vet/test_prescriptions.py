"""Prescriptions: the course of medicate tasks made at once, in the facility's zone; stopping; recording doses."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.animals.models import AnimalStatus
from app.auth.permissions import can
from app.care import records
from app.care.models import CareLog, CareSchedule, CareTask, TaskStatus
from app.care.services import CareError, generate_care_tasks
from app.extensions import db
from app.vet.models import Prescription, PrescriptionStatus
from app.vet.prescriptions import prescribe, stop_prescription
from app.vet.services import VetError
from tests.vet.conftest import NOW, weigh

PHNOM_PENH = ZoneInfo("Asia/Phnom_Penh")
SYDNEY = ZoneInfo("Australia/Sydney")


def _prescribe(animal, user, now=NOW, **values):
    values = {"drug": "Meloxicam", "dose_mg_per_kg": Decimal("0.2"), "concentration_mg_per_ml": Decimal("1.5"),
              "route": "PO", "frequency": "BID", "days": 5, **values}
    return prescribe(animal, user=user, now=now, **values)


def _tasks(prescription) -> list[CareTask]:
    return list(db.session.execute(select(CareTask).where(CareTask.schedule_id == prescription.schedule_id)
                                   .order_by(CareTask.due_at)).scalars())


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _local(due: datetime, tz=PHNOM_PENH) -> str:
    return due.astimezone(tz).strftime("%m-%d %H:%M")


# --- the course ----------------------------------------------------------------------------

def test_a_bid_course_of_five_days_is_ten_open_medicate_tasks_from_tonight(animal, signed_in, app):
    prescription, _ = _prescribe(animal, signed_in())
    tasks = _tasks(prescription)
    assert len(tasks) == 10 == prescription.doses
    assert {(t.kind, t.status, t.animal_id, t.facility_id) for t in tasks} == {
        ("medicate", TaskStatus.OPEN, animal.id, animal.facility_id)}
    # 09:30 local: this morning's 08:00 is past, so the first dose is tonight at 20:00 (13:00 UTC).
    assert tasks[0].due_at == datetime(2026, 6, 10, 13, 0, tzinfo=UTC)
    assert [b.due_at - a.due_at for a, b in pairwise(tasks)] == [timedelta(hours=12)] * 9
    assert [_local(t.due_at)[-5:] for t in tasks] == ["20:00", "08:00"] * 5
    assert _local(tasks[-1].due_at) == "06-15 08:00"
    grace = timedelta(minutes=app.config["CARE_GRACE_MINUTES"]["medicate"])
    assert all(t.overdue_at == t.due_at + grace for t in tasks)


def test_the_course_is_a_schedule_that_ends_on_the_local_day_of_its_last_dose(animal, signed_in):
    prescription, _ = _prescribe(animal, signed_in(), instructions="Give with food.")
    schedule = db.session.get(CareSchedule, prescription.schedule_id)
    assert schedule.is_course is True and schedule.is_active is True and schedule.kind == "medicate"
    assert schedule.times == ["08:00", "20:00"] and schedule.keeper_may_do is False
    assert schedule.starts_on == prescription.starts_on == date(2026, 6, 10)
    assert schedule.ends_on == prescription.ends_on == date(2026, 6, 15)
    assert schedule.instructions == "Meloxicam 1.2 mg = 0.8 ml PO · BID. Give with food."
    assert prescription.status == PrescriptionStatus.ACTIVE and prescription.prescribed_at == NOW


def test_the_daily_generator_makes_nothing_for_a_course(animal, signed_in):
    prescription, _ = _prescribe(animal, signed_in())
    before = [(t.id, t.due_at) for t in _tasks(prescription)]
    for day in range(7):
        for hour in (0, 7, 13):
            assert generate_care_tasks(NOW + timedelta(days=day, hours=hour)) == 0
    db.session.expire_all()
    assert [(t.id, t.due_at) for t in _tasks(prescription)] == before
    assert _count(CareTask) == 10


def test_a_course_starting_tomorrow_starts_at_tomorrows_first_dosing_time(animal, signed_in):
    prescription, _ = _prescribe(animal, signed_in(), starts_on=date(2026, 6, 11))
    tasks = _tasks(prescription)
    assert len(tasks) == 10
    assert tasks[0].due_at == datetime(2026, 6, 11, 1, 0, tzinfo=UTC)  # 08:00 local
    assert _local(tasks[-1].due_at) == "06-15 20:00"
    assert prescription.ends_on == date(2026, 6, 15)


def test_every_other_day_falls_on_the_first_day_and_every_second_one(animal, signed_in):
    prescription, _ = _prescribe(animal, signed_in(), frequency="q48h", starts_on=date(2026, 6, 11))
    assert [_local(t.due_at) for t in _tasks(prescription)] == ["06-11 08:00", "06-13 08:00", "06-15 08:00"]
    assert prescription.doses == 3 and prescription.ends_on == date(2026, 6, 15)


def test_every_other_day_prescribed_after_the_morning_dose_counts_from_tomorrow(animal, signed_in):
    prescription, _ = _prescribe(animal, signed_in(), frequency="q48h")  # at 09:30 local, today's 08:00 is past
    assert [_local(t.due_at) for t in _tasks(prescription)] == ["06-11 08:00", "06-13 08:00", "06-15 08:00"]
    assert db.session.get(CareSchedule, prescription.schedule_id).starts_on == date(2026, 6, 11)


def test_q8h_doses_are_eight_hours_apart(animal, signed_in):
    prescription, _ = _prescribe(animal, signed_in(), frequency="q8h", days=2, starts_on=date(2026, 6, 11))
    tasks = _tasks(prescription)
    assert [_local(t.due_at) for t in tasks] == ["06-11 00:00", "06-11 08:00", "06-11 16:00",
                                                 "06-12 00:00", "06-12 08:00", "06-12 16:00"]


def test_the_last_day_can_be_given_instead_of_the_number_of_days(animal, signed_in):
    prescription, _ = _prescribe(animal, signed_in(), days=None, starts_on=date(2026, 6, 11),
                                 ends_on=date(2026, 6, 13))
    assert prescription.days == 3 and prescription.doses == 6 and len(_tasks(prescription)) == 6


def test_today_is_the_facilitys_day_not_utcs(animal, signed_in):
    # 20:00 UTC on the 10th is 03:00 on the 11th in Phnom Penh.
    late = datetime(2026, 6, 10, 20, 0, tzinfo=UTC)
    vet = signed_in()
    with pytest.raises(VetError) as refused:
        _prescribe(animal, vet, now=late, starts_on=date(2026, 6, 10))
    assert set(refused.value.fields) == {"starts_on"}
    prescription, _ = _prescribe(animal, vet, now=late)
    assert prescription.starts_on == date(2026, 6, 11)
    assert _tasks(prescription)[0].due_at == datetime(2026, 6, 11, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(("now", "change", "gap"), [
    # Daylight saving starts on Sunday 4 October 2026 (02:00 → 03:00): the night between is an hour shorter.
    (datetime(2026, 10, 1, 23, 30, tzinfo=UTC), date(2026, 10, 4), timedelta(hours=11)),
    # It ends on Sunday 5 April 2026 (03:00 → 02:00): that night is an hour longer.
    (datetime(2026, 4, 2, 22, 30, tzinfo=UTC), date(2026, 4, 5), timedelta(hours=13)),
])
def test_across_a_daylight_saving_change_doses_stay_at_local_eight_and_twenty(facility, animal, signed_in, now,
                                                                              change, gap):
    facility.timezone = "Australia/Sydney"
    db.session.flush()
    animal.admitted_at = now - timedelta(days=1)
    weigh(animal, 6000, at=now - timedelta(hours=1))
    prescription, warnings = _prescribe(animal, signed_in(), now=now)
    assert warnings == []
    tasks = _tasks(prescription)
    assert len(tasks) == 10
    assert [_local(t.due_at, SYDNEY)[-5:] for t in tasks] == ["20:00", "08:00"] * 5
    gaps = {_local(a.due_at, SYDNEY): b.due_at - a.due_at for a, b in pairwise(tasks)}
    night = f"{change - timedelta(days=1):%m-%d} 20:00"  # 20:00 the evening before → 08:00 on the day of the change
    assert gaps.pop(night) == gap
    assert set(gaps.values()) == {timedelta(hours=12)} and len(gaps) == 8
    assert prescription.ends_on == tasks[-1].due_at.astimezone(SYDNEY).date()


# --- refusals ------------------------------------------------------------------------------

@pytest.mark.parametrize(("values", "field"), [
    ({"frequency": "q5h"}, "frequency"), ({"frequency": "q36h"}, "frequency"), ({"frequency": "q0h"}, "frequency"),
    ({"frequency": "often"}, "frequency"), ({"frequency": ""}, "frequency"),
    ({"starts_on": date(2026, 6, 9)}, "starts_on"),
    ({"days": 0}, "days"), ({"days": 366}, "days"), ({"days": "5"}, "days"), ({"days": None}, "days"),
    ({"days": None, "starts_on": date(2026, 6, 12), "ends_on": date(2026, 6, 11)}, "ends_on"),
    ({"drug": "  "}, "drug"), ({"dose_mg_per_kg": "0"}, "dose_mg_per_kg"),
    ({"dose_mg_per_kg": "NaN"}, "dose_mg_per_kg"),
    ({"dose_mg_per_kg": None}, "dose_mg_per_kg"), ({"concentration_mg_per_ml": "-1"}, "concentration_mg_per_ml"),
    ({"route": "by post"}, "route"),
])
def test_a_refused_prescription_stores_nothing(animal, signed_in, values, field):
    vet = signed_in()
    with pytest.raises(VetError) as refused:
        _prescribe(animal, vet, **values)
    assert set(refused.value.fields) == {field}
    assert (_count(Prescription), _count(CareSchedule), _count(CareTask)) == (0, 0, 0)


def test_a_vet_of_another_facility_cannot_prescribe(animal, signed_in, other_facility):
    with pytest.raises(VetError) as refused:
        _prescribe(animal, signed_in(facilities=[other_facility]))
    assert "animal" in refused.value.fields and _count(Prescription) == 0


def test_an_animal_that_left_care_cannot_be_prescribed_for(animal, signed_in):
    animal.status = AnimalStatus.DIED
    db.session.flush()
    with pytest.raises(VetError) as refused:
        _prescribe(animal, signed_in())
    assert "animal" in refused.value.fields


# --- stopping ------------------------------------------------------------------------------

def test_stopping_cancels_only_the_doses_still_to_come(animal, signed_in):
    vet = signed_in()
    prescription, _ = _prescribe(animal, vet)
    first = _tasks(prescription)[0]
    records.complete_task(first, user=vet, client_id="dose-first-1", given="given", now=first.due_at)
    stop_at = datetime(2026, 6, 12, 3, 0, tzinfo=UTC)  # 10:00 local on the 12th: that morning's dose is past
    cancelled = stop_prescription(prescription, user=vet, reason="Wound healed", now=stop_at)
    db.session.expire_all()
    tasks = _tasks(prescription)
    assert cancelled == 6
    assert [(_local(t.due_at), t.status) for t in tasks] == [
        ("06-10 20:00", TaskStatus.DONE), ("06-11 08:00", TaskStatus.OPEN), ("06-11 20:00", TaskStatus.OPEN),
        ("06-12 08:00", TaskStatus.OPEN)] + [(_local(t.due_at), TaskStatus.CANCELLED) for t in tasks[4:]]
    assert all(t.due_at >= stop_at for t in tasks[4:])
    assert prescription.status == PrescriptionStatus.STOPPED
    assert (prescription.stopped_at, prescription.stopped_by_id, prescription.stop_reason) == (
        stop_at, vet.id, "Wound healed")
    assert db.session.get(CareSchedule, prescription.schedule_id).is_active is False


def test_a_dose_due_at_the_very_moment_of_stopping_is_cancelled(animal, signed_in):
    vet = signed_in()
    prescription, _ = _prescribe(animal, vet)
    second = _tasks(prescription)[1]
    assert stop_prescription(prescription, user=vet, now=second.due_at) == 9


def test_stopping_twice_is_refused(animal, signed_in):
    vet = signed_in()
    prescription, _ = _prescribe(animal, vet)
    stop_prescription(prescription, user=vet, now=NOW + timedelta(hours=1))
    with pytest.raises(VetError) as refused:
        stop_prescription(prescription, user=vet, now=NOW + timedelta(hours=2))
    assert "prescription" in refused.value.fields
    assert prescription.stopped_at == NOW + timedelta(hours=1)


def test_a_vet_of_another_facility_cannot_stop_a_prescription(animal, signed_in, make_user, other_facility):
    prescription, _ = _prescribe(animal, signed_in())
    with pytest.raises(VetError):
        stop_prescription(prescription, user=make_user("vet", facilities=[other_facility]), now=NOW)
    assert prescription.status == PrescriptionStatus.ACTIVE
    assert {t.status for t in _tasks(prescription)} == {TaskStatus.OPEN}


# --- recording doses ----------------------------------------------------------------------

def _first_dose(animal, vet, **values):
    prescription, _ = _prescribe(animal, vet, **values)
    return _tasks(prescription)[0]


def test_a_dose_must_say_what_became_of_it(animal, signed_in):
    vet = signed_in()
    task = _first_dose(animal, vet)
    with pytest.raises(CareError) as refused:
        records.complete_task(task, user=vet, client_id="dose-0000001", now=task.due_at)
    assert set(refused.value.fields) == {"given"}
    db.session.refresh(task)
    assert task.status == TaskStatus.OPEN and _count(CareLog) == 0


def test_a_vomited_dose_is_stored(animal, signed_in):
    vet = signed_in()
    task = _first_dose(animal, vet)
    log, created = records.complete_task(task, user=vet, client_id="dose-0000001", given="vomited",
                                         now=task.due_at + timedelta(minutes=5))
    assert created and log.given == "vomited" and log.kind == "medicate" and log.task_id == task.id
    assert task.status == TaskStatus.DONE and task.done_by_id == vet.id


@pytest.mark.parametrize(("keeper_may_give", "allowed"), [(False, False), (True, True)])
def test_a_keeper_gives_only_the_doses_the_prescription_lets_keepers_give(animal, signed_in, make_user,
                                                                            keeper_may_give, allowed):
    task = _first_dose(animal, signed_in(), keeper_may_give=keeper_may_give)
    keeper = make_user("keeper")
    if allowed:
        log, _ = records.complete_task(task, user=keeper, client_id="dose-0000001", given="given", now=task.due_at)
        assert log.recorded_by_id == keeper.id
    else:
        with pytest.raises(records.NotYoursToDoError):
            records.complete_task(task, user=keeper, client_id="dose-0000001", given="given", now=task.due_at)
        db.session.refresh(task)
        assert task.status == TaskStatus.OPEN


def test_a_vet_gives_any_dose(animal, signed_in, make_user):
    task = _first_dose(animal, signed_in(), keeper_may_give=False)
    other_vet = make_user("vet")
    log, created = records.complete_task(task, user=other_vet, client_id="dose-0000001", given="refused",
                                         now=task.due_at)
    assert created and log.given == "refused"


@pytest.mark.parametrize("role", ["coordinator", "admin", "viewer"])
def test_coordinators_admins_and_viewers_record_no_doses(animal, signed_in, make_user, role):
    task = _first_dose(animal, signed_in(), keeper_may_give=True)
    with pytest.raises(records.NotYoursToDoError):
        records.complete_task(task, user=make_user(role), client_id="dose-0000001", given="given", now=task.due_at)
    assert _count(CareLog) == 0


# --- roles ---------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["admin", "coordinator", "vet", "keeper", "viewer"])
def test_only_vets_write_medical_records_and_everyone_reads_them(make_user, role):
    user = make_user(role)
    assert can("vet.write", user) is (role == "vet")
    assert can("vet.view", user) is True
