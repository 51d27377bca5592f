"""Care schedules make tasks: once per schedule and due time, in the facility's own zone."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.animals.models import AnimalStatus
from app.care import queries, services
from app.care.models import CareTask, TaskStatus
from app.extensions import db
from tests import factories
from tests.care.conftest import NOW


def _tasks(schedule_id=None, status=None):
    stmt = select(CareTask).order_by(CareTask.due_at)
    if schedule_id:
        stmt = stmt.where(CareTask.schedule_id == schedule_id)
    if status:
        stmt = stmt.where(CareTask.status == status)
    return db.session.execute(stmt).scalars().all()


def _feed(animal, times=("08:00", "16:00"), **values):
    return services.create_schedule(animal=animal, user=None, now=NOW, kind="feed", times=list(times),
                                    starts_on=date(2026, 6, 1), **values)


def test_a_new_schedule_has_its_tasks_at_once_but_none_in_the_past(animal):
    schedule = _feed(animal)
    due = [t.due_at for t in _tasks(schedule.id)]
    # 08:00 today (01:00 UTC) was before the schedule was made at 09:30: not an overdue task.
    assert due == [datetime(2026, 6, 10, 9, 0, tzinfo=UTC), datetime(2026, 6, 11, 1, 0, tzinfo=UTC),
                   datetime(2026, 6, 11, 9, 0, tzinfo=UTC)]


def test_generating_twice_creates_nothing_the_second_time(animal, enclosure):
    _feed(animal)
    services.create_schedule(enclosure=enclosure, user=None, now=NOW, kind="clean", times=["07:00"],
                             starts_on=date(2026, 6, 1))
    tomorrow = NOW + timedelta(days=1)
    first = services.generate_care_tasks(tomorrow)
    count = db.session.scalar(select(func.count()).select_from(CareTask))
    assert first > 0
    assert services.generate_care_tasks(tomorrow) == 0
    assert db.session.scalar(select(func.count()).select_from(CareTask)) == count


def test_due_times_follow_each_facilitys_zone(db):
    phnom_penh = factories.FacilityFactory(timezone="Asia/Phnom_Penh")
    sydney = factories.FacilityFactory(timezone="Australia/Sydney")  # UTC+10 in June, +11 in January
    made = {}
    for facility in (phnom_penh, sydney):
        animal = factories.AnimalFactory(case=factories.CaseFactory(facility=facility))
        schedule = services.create_schedule(animal=animal, user=None, now=datetime(2026, 6, 9, 12, tzinfo=UTC),
                                            kind="feed", times=["08:00"], starts_on=date(2026, 6, 1))
        made[facility.timezone] = [t.due_at for t in _tasks(schedule.id)]
    assert made["Asia/Phnom_Penh"][0] == datetime(2026, 6, 10, 1, 0, tzinfo=UTC)
    assert made["Australia/Sydney"][0] == datetime(2026, 6, 9, 22, 0, tzinfo=UTC)
    # In the southern summer Sydney is UTC+11: the same 08:00 is an hour earlier in UTC.
    summer = factories.AnimalFactory(case=factories.CaseFactory(facility=sydney))
    schedule = services.create_schedule(animal=summer, user=None, now=datetime(2027, 1, 9, 12, tzinfo=UTC),
                                        kind="feed", times=["08:00"], starts_on=date(2027, 1, 1))
    assert _tasks(schedule.id)[0].due_at == datetime(2027, 1, 9, 21, 0, tzinfo=UTC)


def test_every_n_days_falls_on_its_days_only(animal):
    schedule = services.create_schedule(animal=animal, user=None, now=datetime(2026, 6, 9, 17, tzinfo=UTC),
                                        kind="weigh", every_days=7, starts_on=date(2026, 6, 3))
    # Local today is 10 June (a week after the 3rd), tomorrow the 11th is not a weighing day.
    assert [t.due_at for t in _tasks(schedule.id)] == [datetime(2026, 6, 10, 1, 0, tzinfo=UTC)]


def test_changing_times_cancels_unwanted_tasks_and_makes_new_ones(animal):
    schedule = _feed(animal)
    services.update_schedule(schedule, {"times": ["12:00"]}, now=NOW)
    open_due = [t.due_at for t in _tasks(schedule.id, TaskStatus.OPEN)]
    assert open_due == [datetime(2026, 6, 10, 5, 0, tzinfo=UTC), datetime(2026, 6, 11, 5, 0, tzinfo=UTC)]
    assert len(_tasks(schedule.id, TaskStatus.CANCELLED)) == 3
    # Back to the first times: the cancelled tasks are reopened, not duplicated.
    services.update_schedule(schedule, {"times": ["08:00", "16:00"]}, now=NOW)
    assert len(_tasks(schedule.id, TaskStatus.OPEN)) == 3
    assert len(_tasks(schedule.id)) == 5


def test_ending_a_schedule_cancels_its_open_tasks(animal):
    schedule = _feed(animal)
    services.end_schedule(schedule, now=NOW)
    assert _tasks(schedule.id, TaskStatus.OPEN) == []


def test_tasks_of_an_animal_that_left_care_are_cancelled(animal):
    schedule = _feed(animal)
    animal.status = AnimalStatus.DIED
    animal.quantity = 0
    db.session.flush()
    services.generate_care_tasks(NOW)
    assert _tasks(schedule.id, TaskStatus.OPEN) == []
    assert services.generate_care_tasks(NOW + timedelta(days=1)) == 0


@pytest.mark.parametrize(("kind", "minutes_late", "overdue"),
                         [("feed", 59, False), ("feed", 61, True), ("clean", 239, False), ("clean", 241, True)])
def test_overdue_is_due_time_plus_the_kinds_grace(animal, signed_in, kind, minutes_late, overdue):
    signed_in("keeper")
    schedule = services.create_schedule(animal=animal, user=None, now=NOW, kind=kind, times=["10:00"],
                                        starts_on=date(2026, 6, 1))
    task = _tasks(schedule.id)[0]
    later = task.due_at + timedelta(minutes=minutes_late)
    assert (queries.task_state(task, later) == "overdue") is overdue
    found = db.session.execute(queries.tasks_stmt(now=later, status="overdue")).scalars().all()
    assert (task in found) is overdue


@pytest.mark.parametrize(("values", "field"), [
    ({"kind": "feed", "times": ["25:00"]}, "times"),
    ({"kind": "feed"}, "times"),
    ({"kind": "sing", "times": ["08:00"]}, "kind"),
    ({"kind": "feed", "every_days": 0}, "every_days"),
    ({"kind": "feed", "times": ["08:00"], "diet_items": [{"food": "", "grams": 20}]}, "diet_items"),
    ({"kind": "feed", "times": ["08:00"], "starts_on": date(2026, 6, 5), "ends_on": date(2026, 6, 1)}, "ends_on"),
])
def test_bad_schedules_are_refused_with_the_field_named(animal, values, field):
    with pytest.raises(services.CareError) as refused:
        services.create_schedule(animal=animal, user=None, now=NOW, **values)
    assert field in refused.value.fields


def test_intake_copies_the_species_template_onto_new_animals(facility, signed_in):
    signed_in()
    from app.animals.services import admit_animals

    species = factories.SpeciesFactory(taxon_class="bird")
    services.save_template(None, {"taxon_class": "bird", "kind": "feed", "times": ["07:00", "15:00"],
                                  "diet_items": [{"food": "Papaya", "grams": 40}]})
    services.save_template(None, {"taxon_class": "mammal", "kind": "feed", "times": ["09:00"]})
    case = factories.CaseFactory(facility=facility)
    (bird,) = admit_animals(case, [{"species_id": species.id, "quantity": 3}], user=None)
    schedules = db.session.execute(queries.schedules_stmt(animal_id=bird.id)).unique().scalars().all()
    assert [(s.kind, s.times, s.diet_items[0]["food"]) for s in schedules] == [("feed", ["07:00", "15:00"], "Papaya")]
    assert _tasks(schedules[0].id), "the new animal's tasks are in the round at once"
