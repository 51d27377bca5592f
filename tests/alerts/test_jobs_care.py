"""The care jobs with a fixed now: make_care_tasks, and flag_overdue_care for tasks and doses; run_job's record.

Tasks are made by real schedules and prescriptions in Phnom Penh (UTC+7) unless a test
says otherwise: the 08:00 feed is due at 01:00 UTC with a 60-minute grace, the 08:00
dose at 01:00 UTC with a 30-minute grace.
"""

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.alerts import jobs
from app.alerts.engine import sync_alerts
from app.alerts.findings import overdue_tasks
from app.alerts.models import AlertStatus, JobRun, JobRunStatus
from app.alerts.services import acknowledge_alert, resolve_alert
from app.care import services as care_services
from app.care.jobs import make_care_tasks
from app.care.models import CareTask, TaskStatus
from app.care.records import complete_task
from app.extensions import db
from app.releases.transfers import transfer_within_network
from app.scheduler import JOBS, run_job
from app.vet.deaths import record_death
from app.vet.prescriptions import prescribe
from tests import factories
from tests.alerts.conftest import NOW
from tests.alerts.jobs_support import assert_resolved_by_job, by_key, fresh, rows, run_twice, summary
from tests.vet.conftest import weigh

MORNING = datetime(2026, 6, 10, 0, 0, tzinfo=UTC)  # 07:00 in Phnom Penh: schedules made before the round
DUE = datetime(2026, 6, 10, 1, 0, tzinfo=UTC)  # 08:00 in Phnom Penh
SECOND = timedelta(seconds=1)


@pytest.fixture
def enclosure(facility):
    return factories.EnclosureFactory(facility=facility, code="M-1", name="Macaque yard")


@pytest.fixture
def animal(facility, enclosure):
    return factories.AnimalFactory(case=factories.CaseFactory(facility=facility), enclosure_id=enclosure.id,
                                   name="Srey", admitted_at=NOW - timedelta(days=20))


@pytest.fixture
def lot(facility, enclosure):
    turtles = factories.SpeciesFactory(taxon_class="reptile", common_name_en="Amboina box turtle")
    return factories.AnimalFactory(case=factories.CaseFactory(facility=facility), species=turtles,
                                   enclosure_id=enclosure.id, intake_quantity=40, admitted_at=NOW - timedelta(days=20))


@pytest.fixture
def keeper(make_user):
    return make_user("keeper")


@pytest.fixture
def vet(make_user):
    return make_user("vet")


def schedule(kind="feed", *, animal=None, enclosure=None, times=("08:00",), now=MORNING):
    return care_services.create_schedule(animal=animal, enclosure=enclosure, user=None, now=now, kind=kind,
                                         times=list(times), starts_on=date(2026, 6, 1))


def first_task(schedule_id: int) -> CareTask:
    return db.session.execute(select(CareTask).where(CareTask.schedule_id == schedule_id)
                              .order_by(CareTask.due_at).limit(1)).scalar_one()


def dose_task(animal, vet) -> CareTask:
    """The first dose of a 3-day SID course prescribed at 07:00: due at 08:00 today."""
    weigh(animal, 6000, at=MORNING - timedelta(days=1))
    prescription, _warnings = prescribe(animal, user=vet, now=MORNING, drug="Meloxicam",
                                        dose_mg_per_kg=Decimal("0.2"), route="PO", frequency="SID", days=3)
    return first_task(prescription.schedule_id)


def done(task, user, now, **values):
    complete_task(task, user=user, client_id=f"test-done-{task.id}", now=now, **values)


# --- make_care_tasks -------------------------------------------------------------------------

def test_make_care_tasks_fills_each_facilitys_window_once(facility):
    sydney = factories.FacilityFactory(code="SYD", timezone="Australia/Sydney")  # UTC+10 in June
    animals = [factories.AnimalFactory(case=factories.CaseFactory(facility=f)) for f in (facility, sydney)]
    for animal in animals:
        schedule(animal=animal)
    tomorrow = NOW + timedelta(days=1)  # 11 June 09:30 in Phnom Penh, 12:30 in Sydney

    def tasks():
        return set(db.session.execute(select(CareTask.id, CareTask.facility_id, CareTask.due_at)).all())

    before = tasks()
    assert make_care_tasks(tomorrow) == 2
    after = tasks()
    assert make_care_tasks(tomorrow) == 0
    assert tasks() == after

    # The window moved on to 12 June: its 08:00 in each facility's own zone.
    assert {(facility_id, due) for _id, facility_id, due in after - before} == {
        (facility.id, datetime(2026, 6, 12, 1, 0, tzinfo=UTC)), (sydney.id, datetime(2026, 6, 11, 22, 0, tzinfo=UTC))}


# --- overdue care ------------------------------------------------------------------------------

def test_a_feed_is_overdue_after_its_grace_and_critical_after_twice_it(animal):
    task = first_task(schedule(animal=animal).id)
    assert task.due_at == DUE and task.overdue_at == DUE + timedelta(minutes=60)

    assert jobs.flag_overdue_care(DUE + timedelta(minutes=60)) == 0
    assert rows() == []

    late = DUE + timedelta(minutes=60) + SECOND
    assert run_twice(jobs.flag_overdue_care, late) == 1
    [alert] = rows()
    assert (alert.kind, alert.severity, alert.status, alert.dedup_key) == (
        "care_overdue", "warning", AlertStatus.OPEN, f"care_overdue:{task.id}")
    assert (alert.facility_id, alert.animal_id, alert.task_id, alert.case_id) == (
        animal.facility_id, animal.id, task.id, None)
    assert (alert.reference_at, alert.reference_value, alert.raised_at) == (DUE, None, late)

    # Twice the grace past due is still a warning; a second more is critical, on the same alert.
    assert run_twice(jobs.flag_overdue_care, DUE + timedelta(minutes=120)) == 0
    assert summary() == [(alert.id, "care_overdue", "warning", "open", alert.dedup_key)]
    assert run_twice(jobs.flag_overdue_care, DUE + timedelta(minutes=120) + SECOND) == 0
    assert summary() == [(alert.id, "care_overdue", "critical", "open", alert.dedup_key)]
    assert rows()[0].raised_at == late


def test_a_feed_is_a_warning_at_61_minutes_and_critical_at_121(animal):
    schedule(animal=animal)
    jobs.flag_overdue_care(DUE + timedelta(minutes=61))
    assert [row.severity for row in rows()] == ["warning"]
    jobs.flag_overdue_care(DUE + timedelta(minutes=121))
    assert [row.severity for row in rows()] == ["critical"]


def test_a_dose_has_its_own_kind_and_its_own_grace(animal, vet):
    dose = dose_task(animal, vet)
    feed = first_task(schedule(animal=animal).id)
    assert dose.due_at == feed.due_at == DUE

    # 31 minutes: the dose (grace 30) is overdue, the feed (grace 60) is not yet.
    assert run_twice(jobs.flag_overdue_care, DUE + timedelta(minutes=31)) == 1
    [alert] = rows()
    assert (alert.kind, alert.severity, alert.dedup_key, alert.task_id, alert.animal_id, alert.reference_at) == (
        "dose_overdue", "warning", f"dose_overdue:{dose.id}", dose.id, animal.id, DUE)

    assert run_twice(jobs.flag_overdue_care, DUE + timedelta(minutes=61)) == 1
    assert sorted((r.kind, r.task_id, r.severity) for r in rows()) == [
        ("care_overdue", feed.id, "warning"), ("dose_overdue", dose.id, "critical")]

    # The vet records the dose (refused is a result too): its alert resolves, the feed's stays.
    later = DUE + timedelta(minutes=70)
    done(dose, vet, later, given="refused")
    assert run_twice(jobs.flag_overdue_care, later) == 0
    dose_alert, feed_alert = rows()
    assert_resolved_by_job(dose_alert, later)
    assert (feed_alert.status, feed_alert.severity) == ("open", "warning")


def test_each_task_of_an_animal_a_lot_an_enclosure_or_a_dose_has_one_alert(animal, lot, enclosure, vet):
    tasks = [first_task(schedule(animal=animal).id), first_task(schedule(animal=lot).id),
             first_task(schedule("clean", enclosure=enclosure, times=("07:30",)).id), dose_task(animal, vet)]

    at = datetime(2026, 6, 10, 4, 31, tzinfo=UTC)  # 11:31 in Phnom Penh
    assert run_twice(jobs.flag_overdue_care, at) == 4
    assert sorted((r.kind, r.task_id, r.animal_id, r.facility_id, r.severity) for r in rows()) == [
        ("care_overdue", tasks[0].id, animal.id, animal.facility_id, "critical"),  # 3.5 h on a 1-hour grace
        ("care_overdue", tasks[1].id, lot.id, lot.facility_id, "critical"),  # a lot of 40: one task, one alert
        ("care_overdue", tasks[2].id, None, enclosure.facility_id, "warning"),  # 07:30 cleaning, 4-hour grace
        ("dose_overdue", tasks[3].id, animal.id, animal.facility_id, "critical"),
    ]
    assert sorted((r.task_id, r.reference_at) for r in rows()) == [
        (tasks[0].id, DUE), (tasks[1].id, DUE), (tasks[2].id, DUE - timedelta(minutes=30)), (tasks[3].id, DUE)]


def test_alerts_resolve_when_the_task_is_done_or_cancelled(animal, lot, enclosure, keeper):
    feed, lot_feed = (first_task(schedule(animal=a).id) for a in (animal, lot))
    cleaning = first_task(schedule("clean", enclosure=enclosure, times=("07:30",)).id)
    late = DUE + timedelta(hours=5)  # all three overdue
    assert jobs.flag_overdue_care(late) == 3

    later = late + timedelta(minutes=10)
    done(feed, keeper, later, eaten="most")
    done(cleaning, keeper, later)
    record_death(lot, user=None, occurred_at=late, count=40, now=later, cause="Shell necrosis")
    assert db.session.scalar(select(CareTask.status).where(CareTask.id == lot_feed.id)) == TaskStatus.CANCELLED

    assert run_twice(jobs.flag_overdue_care, later) == 0
    for row in rows():
        assert_resolved_by_job(row, later)


def test_each_facility_is_late_by_its_own_clock(facility):
    sydney = factories.FacilityFactory(code="SYD", timezone="Australia/Sydney")
    yesterday = datetime(2026, 6, 9, 12, 0, tzinfo=UTC)  # 19:00 in Phnom Penh, 22:00 in Sydney
    tasks = {}
    for where in (facility, sydney):
        animal = factories.AnimalFactory(case=factories.CaseFactory(facility=where))
        tasks[where.id] = first_task(schedule(animal=animal, now=yesterday).id)
    assert tasks[sydney.id].due_at == datetime(2026, 6, 9, 22, 0, tzinfo=UTC)  # 08:00 on 10 June in Sydney

    assert run_twice(jobs.flag_overdue_care, NOW) == 2
    assert sorted((r.facility_id, r.task_id, r.severity) for r in rows()) == [
        (facility.id, tasks[facility.id].id, "warning"),  # 09:30 there: 90 minutes late
        (sydney.id, tasks[sydney.id].id, "critical"),  # 12:30 there: four and a half hours late
    ]


def test_an_alert_resolved_by_hand_is_not_raised_again(animal, keeper, make_user):
    task = first_task(schedule(animal=animal).id)
    jobs.flag_overdue_care(NOW)
    coordinator = make_user("coordinator")
    resolve_alert(fresh(rows()[0].id), user=coordinator, now=NOW + timedelta(minutes=5))

    later = NOW + timedelta(hours=1)  # still overdue, and now past twice its grace
    assert run_twice(jobs.flag_overdue_care, later) == 0
    [alert] = by_key(f"care_overdue:{task.id}")
    assert (alert.status, alert.severity, alert.resolved_by_id) == ("resolved", "warning", coordinator.id)
    assert alert.resolved_at == NOW + timedelta(minutes=5)

    done(task, keeper, later)
    jobs.flag_overdue_care(later)
    assert rows() == [alert]


def test_an_acknowledged_alert_is_kept_escalated_and_resolves_itself(animal, keeper, make_user):
    task = first_task(schedule(animal=animal).id)
    jobs.flag_overdue_care(NOW)
    coordinator = make_user("coordinator")
    acknowledge_alert(fresh(rows()[0].id), user=coordinator, now=NOW)
    alert_id = rows()[0].id

    later = NOW + timedelta(hours=1)
    assert run_twice(jobs.flag_overdue_care, later) == 0
    assert summary() == [(alert_id, "care_overdue", "critical", "acknowledged", f"care_overdue:{task.id}")]

    done(task, keeper, later)
    assert jobs.flag_overdue_care(later) == 0
    [alert] = rows()
    assert_resolved_by_job(alert, later)
    assert (alert.acknowledged_by_id, alert.acknowledged_at) == (coordinator.id, NOW)


def test_the_alert_follows_a_task_to_the_animals_new_facility(animal, other_facility):
    task = first_task(schedule(animal=animal).id)
    jobs.flag_overdue_care(NOW)
    transfer_within_network(animal, to_facility=other_facility, user=None, now=NOW + timedelta(minutes=5))
    assert db.session.scalar(select(CareTask.facility_id).where(CareTask.id == task.id)) == other_facility.id

    assert run_twice(jobs.flag_overdue_care, NOW + timedelta(minutes=10)) == 0
    assert [(r.task_id, r.status, r.facility_id) for r in rows()] == [(task.id, "open", other_facility.id)]


def test_a_condition_that_clears_and_returns_is_a_new_alert(animal):
    """An alert resolved by the job is history; the same key found again is raised anew."""
    task = first_task(schedule(animal=animal).id)
    jobs.flag_overdue_care(NOW)
    db.session.execute(CareTask.__table__.update().where(CareTask.id == task.id).values(status=TaskStatus.CANCELLED))
    jobs.flag_overdue_care(NOW + timedelta(minutes=1))
    db.session.execute(CareTask.__table__.update().where(CareTask.id == task.id).values(status=TaskStatus.OPEN))

    assert run_twice(jobs.flag_overdue_care, NOW + timedelta(minutes=2)) == 1
    first, second = rows()
    assert first.dedup_key == second.dedup_key and first.id != second.id
    assert (first.status, second.status) == ("resolved", "open")


# --- run_job -------------------------------------------------------------------------------------

def test_run_job_records_its_run(animal):
    schedule(animal=animal)
    run = run_job("flag_overdue_care", NOW)
    assert (run.job, run.status, run.items, run.as_of, run.error, run.runner, run.scheduled_for) == (
        "flag_overdue_care", JobRunStatus.SUCCEEDED, 1, NOW, "", "cli", None)
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert [r.kind for r in rows()] == ["care_overdue"]

    again = run_job("flag_overdue_care", NOW)
    assert (again.status, again.items) == (JobRunStatus.SUCCEEDED, 0)
    assert len(rows()) == 1


def test_a_trigger_is_run_once(animal):
    schedule(animal=animal)
    slot = datetime(2026, 6, 10, 2, 30, tzinfo=UTC)
    assert run_job("flag_overdue_care", NOW, scheduled_for=slot).items == 1
    assert run_job("flag_overdue_care", NOW + SECOND, scheduled_for=slot) is None
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == 1


def test_a_failing_job_is_recorded_its_writes_undone_and_the_next_job_runs(animal, monkeypatch):
    schedule(animal=animal)

    def half_done(now):
        sync_alerts(("care_overdue", "dose_overdue"), overdue_tasks(now), now=now)  # writes an alert, then fails
        raise RuntimeError("the scale's battery is flat")

    monkeypatch.setitem(JOBS, "flag_overdue_care", dataclasses.replace(JOBS["flag_overdue_care"], run=half_done))
    failed = run_job("flag_overdue_care", NOW)
    assert (failed.status, failed.items) == (JobRunStatus.FAILED, None)
    assert "RuntimeError: the scale's battery is flat" in failed.error
    assert failed.finished_at is not None
    assert rows() == []

    made = run_job("make_care_tasks", NOW)
    assert made.status == JobRunStatus.SUCCEEDED
    weights = run_job("flag_weights", NOW)
    assert (weights.status, weights.items) == (JobRunStatus.SUCCEEDED, 0)
    statuses = db.session.execute(select(JobRun.job, JobRun.status).order_by(JobRun.id)).all()
    assert statuses == [("flag_overdue_care", "failed"), ("make_care_tasks", "succeeded"),
                        ("flag_weights", "succeeded")]
