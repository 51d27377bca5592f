"""The weight and quarantine jobs with a fixed now: flag_weights and flag_quarantine.

NOW is 10 June 2026, 09:30 in Phnom Penh (02:30 UTC). Species quarantine for 30 days
unless a test says otherwise; a quarantine ends on the facility's local day of intake
plus those days, as the vet's quarantine page shows it.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.alerts import jobs
from app.alerts.services import acknowledge_alert, resolve_alert
from app.care.records import record_weight
from app.vet.deaths import record_death
from app.vet.quarantine import clear_quarantine, quarantine_state
from tests import factories
from tests.alerts.conftest import NOW
from tests.alerts.jobs_support import assert_resolved_by_job, by_key, fresh, rows, run_twice, summary, unresolved
from tests.vet.conftest import weigh

DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
LATER = NOW + timedelta(hours=3)


@pytest.fixture
def admit(facility):
    """admit(days_ago=60, **kwargs): an animal of `facility` (or kwargs' facility) admitted that long before NOW."""

    def _admit(days_ago=60, *, facility=facility, at=None, **kwargs):
        return factories.AnimalFactory(case=factories.CaseFactory(facility=facility),
                                       admitted_at=at or NOW - days_ago * DAY, **kwargs)

    return _admit


@pytest.fixture
def vet(make_user):
    return make_user("vet")


def turtles(**kwargs):
    return factories.SpeciesFactory(taxon_class="reptile", common_name_en="Amboina box turtle", **kwargs)


# --- no weight in WEIGHT_ALERT_DAYS ----------------------------------------------------------------

def test_no_weight_for_30_days_is_an_alert_per_animal(admit):
    on_time = admit()
    weigh(on_time, 5000, at=NOW - 30 * DAY)  # exactly 30 days: not yet
    late = admit()
    weigh(late, 5000, at=NOW - 50 * DAY)
    last = weigh(late, 5100, at=NOW - 30 * DAY - SECOND)
    never = admit(40)
    newcomer = admit(10)  # not weighed, but admitted only ten days ago
    lot = admit(species=turtles(), intake_quantity=50)
    lot_weight = weigh(lot, 400, at=NOW - 45 * DAY)
    gone = admit()
    weigh(gone, 5000, at=NOW - 45 * DAY)
    record_death(gone, user=None, occurred_at=NOW - 2 * DAY, now=NOW)

    assert run_twice(jobs.flag_weights, NOW) == 3
    found = {row.animal_id: row for row in rows()}
    assert set(found) == {late.id, never.id, lot.id}
    for animal, weight in ((late, last), (never, None), (lot, lot_weight)):
        row = found[animal.id]
        assert (row.kind, row.severity, row.status, row.facility_id, row.task_id, row.case_id) == (
            "weight_missing", "info", "open", animal.facility_id, None, None)
        assert row.dedup_key == f"weight_missing:{animal.id}:{weight.id if weight else 0}"
        assert (row.reference_at, row.reference_value) == (weight.measured_at if weight else None, None)
    assert newcomer.id not in found and on_time.id not in found


def test_a_new_weight_or_leaving_care_resolves_it(admit):
    weighed, gone = admit(), admit()
    lot = admit(species=turtles(), intake_quantity=50)
    for animal in (weighed, gone, lot):
        weigh(animal, 5000, at=NOW - 40 * DAY)
    jobs.flag_weights(NOW)
    assert len(unresolved()) == 3

    record_weight(weighed, user=None, grams=5050, measured_at=LATER - timedelta(minutes=5), now=LATER)
    record_death(gone, user=None, occurred_at=LATER - timedelta(minutes=5), now=LATER)
    record_death(lot, user=None, occurred_at=LATER - timedelta(minutes=5), count=49, now=LATER)  # one is left
    assert run_twice(jobs.flag_weights, LATER) == 0
    resolved = {row.animal_id: row for row in rows() if row.status == "resolved"}
    assert set(resolved) == {weighed.id, gone.id}
    for row in resolved.values():
        assert_resolved_by_job(row, LATER)
    assert [(row.animal_id, row.status) for row in unresolved()] == [(lot.id, "open")]


def test_resolved_by_hand_it_stays_resolved_until_the_next_weighing_is_overdue(admit, make_user):
    animal = admit(90)
    weigh(animal, 5000, at=NOW - 40 * DAY)
    jobs.flag_weights(NOW)
    [alert] = rows()
    coordinator = make_user("coordinator")
    resolve_alert(fresh(alert.id), user=coordinator, now=NOW)

    assert run_twice(jobs.flag_weights, NOW + DAY) == 0
    assert summary() == [(alert.id, "weight_missing", "info", "resolved", alert.dedup_key)]

    # Weighed; a month and more later it is due again: a new episode, a new alert.
    weight, _created = record_weight(animal, user=None, grams=5100, now=NOW + DAY)
    month_on = NOW + DAY + 30 * DAY + SECOND
    assert run_twice(jobs.flag_weights, month_on) == 1
    assert [(r.status, r.dedup_key, r.reference_at) for r in rows()] == [
        ("resolved", alert.dedup_key, NOW - 40 * DAY),
        ("open", f"weight_missing:{animal.id}:{weight.id}", NOW + DAY)]


# --- weight loss -------------------------------------------------------------------------------------

def losing(admit, peak, latest, *, days_between=9, **kwargs):
    """An animal weighing `peak` g, then `latest` g the day before NOW; returns it and the latest weight."""
    animal = admit(**kwargs)
    weigh(animal, peak, at=NOW - DAY - days_between * DAY)
    return animal, weigh(animal, latest, at=NOW - DAY)


def test_a_loss_of_ten_percent_is_a_warning_and_twenty_critical(admit):
    small, _ = losing(admit, 1000, 901)  # 9.9%
    ten, ten_weight = losing(admit, 1000, 900)
    odd, odd_weight = losing(admit, 123, "110.7")  # exactly 10%, which floating point makes 9.999...
    fifteen, fifteen_weight = losing(admit, 400, 340, species=turtles(), intake_quantity=40)  # a lot's mean
    twenty, twenty_weight = losing(admit, 1000, 800)
    gained, _ = losing(admit, 800, 1000)

    run_twice(jobs.flag_weights, NOW)
    found = {row.animal_id: row for row in rows("weight_loss")}
    assert {animal_id: (row.severity, row.reference_value) for animal_id, row in found.items()} == {
        ten.id: ("warning", 10.0), odd.id: ("warning", 10.0), fifteen.id: ("warning", 15.0),
        twenty.id: ("critical", 20.0)}
    assert small.id not in found and gained.id not in found
    for animal, weight in ((ten, ten_weight), (odd, odd_weight), (fifteen, fifteen_weight), (twenty, twenty_weight)):
        row = found[animal.id]
        assert (row.kind, row.status, row.facility_id, row.dedup_key, row.reference_at) == (
            "weight_loss", "open", animal.facility_id, f"weight_loss:{animal.id}:{weight.id}", NOW - DAY)


def test_only_the_14_days_before_the_latest_weight_count(admit):
    long_ago, _ = losing(admit, 1000, 800, days_between=15)
    just_in, _ = losing(admit, 1000, 880, days_between=14)
    peaked = admit()
    weigh(peaked, 1000, at=NOW - 13 * DAY)
    weigh(peaked, 1100, at=NOW - 8 * DAY)  # the heaviest of the fortnight, not the first
    weigh(peaked, 990, at=NOW - DAY)

    assert run_twice(jobs.flag_weights, NOW) == 2
    assert sorted((r.animal_id, r.reference_value) for r in rows("weight_loss")) == [
        (just_in.id, 12.0), (peaked.id, 10.0)]
    assert long_ago.id not in {r.animal_id for r in rows()}


def test_the_next_weighing_ends_the_episode(admit, vet):
    recovered, _ = losing(admit, 1000, 850)
    still_low, _ = losing(admit, 1000, 850)
    gone, _ = losing(admit, 1000, 850)
    jobs.flag_weights(NOW)
    first = {row.animal_id: row for row in rows("weight_loss")}
    acknowledge_alert(fresh(first[recovered.id].id), user=vet, now=NOW)

    record_weight(recovered, user=None, grams=980, now=LATER)
    low, _created = record_weight(still_low, user=None, grams=870, now=LATER)
    record_death(gone, user=None, occurred_at=LATER, now=LATER)
    assert run_twice(jobs.flag_weights, LATER) == 1

    for animal in (recovered, gone, still_low):
        assert_resolved_by_job(next(r for r in rows() if r.id == first[animal.id].id), LATER)
    # Still 13% under its peak: a new episode, keyed on the new weighing.
    [new] = unresolved("weight_loss")
    assert (new.animal_id, new.dedup_key, new.severity, new.reference_value, new.reference_at) == (
        still_low.id, f"weight_loss:{still_low.id}:{low.id}", "warning", 13.0, LATER)


def test_a_late_entry_heavier_weight_makes_the_same_alert_worse(admit):
    animal, latest = losing(admit, 1000, 880)
    jobs.flag_weights(NOW)
    [alert] = rows("weight_loss")
    assert (alert.severity, alert.reference_value) == ("warning", 12.0)

    weigh(animal, 1100, at=NOW - 3 * DAY)  # yesterday's weighing entered today: it was 1100 g
    assert run_twice(jobs.flag_weights, NOW + timedelta(hours=1)) == 0
    [again] = rows("weight_loss")
    assert (again.id, again.dedup_key, again.status, again.severity, again.reference_value) == (
        alert.id, f"weight_loss:{animal.id}:{latest.id}", "open", "critical", 20.0)


def test_a_loss_resolved_by_hand_is_not_raised_again_for_that_weighing(admit, vet):
    losing(admit, 1000, 850)
    jobs.flag_weights(NOW)
    [alert] = rows("weight_loss")
    resolve_alert(fresh(alert.id), user=vet, now=NOW)

    assert run_twice(jobs.flag_weights, LATER) == 0
    assert summary("weight_loss") == [(alert.id, "weight_loss", "warning", "resolved", alert.dedup_key)]
    assert fresh(alert.id).resolved_by_id == vet.id


# --- quarantine --------------------------------------------------------------------------------------

def local(day: date, hour: int, tz: str = "Asia/Phnom_Penh") -> datetime:
    """The UTC instant of `hour` o'clock on `day` in a facility's zone."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def test_quarantine_ending_within_two_days_and_past_its_end(admit):
    # Each ends on its local intake day + 30; on 10 June (local) the days left are:
    ends_today = admit(at=local(date(2026, 5, 11), 8))  # 0 (30 days and 90 minutes ago, in hours)
    in_two_days = admit(at=local(date(2026, 5, 13), 20))  # 2 (under 28 days ago, in hours)
    in_three_days = admit(at=local(date(2026, 5, 14), 0))  # 3
    past = admit(at=local(date(2026, 5, 10), 23))  # -1: its end was yesterday
    lot = admit(at=local(date(2026, 5, 1), 9), species=turtles(), intake_quantity=50)  # -10
    cleared = admit(at=local(date(2026, 5, 1), 9), quarantine_cleared_on=date(2026, 6, 1))
    no_quarantine = admit(at=local(date(2026, 5, 1), 9), species=factories.SpeciesFactory(quarantine_days=0))
    for animal in (ends_today, in_two_days, in_three_days, past, lot):
        assert quarantine_state(animal, NOW).days_left == {
            ends_today.id: 0, in_two_days.id: 2, in_three_days.id: 3, past.id: -1, lot.id: -10}[animal.id]

    assert run_twice(jobs.flag_quarantine, NOW) == 4
    assert sorted((r.kind, r.animal_id, r.severity, r.facility_id, r.dedup_key) for r in rows()) == sorted([
        ("quarantine_ending", ends_today.id, "info", ends_today.facility_id, f"quarantine_ending:{ends_today.id}"),
        ("quarantine_ending", in_two_days.id, "info", in_two_days.facility_id,
         f"quarantine_ending:{in_two_days.id}"),
        ("quarantine_overdue", past.id, "warning", past.facility_id, f"quarantine_overdue:{past.id}"),
        ("quarantine_overdue", lot.id, "warning", lot.facility_id, f"quarantine_overdue:{lot.id}"),
    ])
    assert {r.animal_id for r in rows()}.isdisjoint({in_three_days.id, cleared.id, no_quarantine.id})


def test_the_end_falls_on_each_facilitys_own_day(admit, facility):
    sydney = factories.FacilityFactory(code="SYD", timezone="Australia/Sydney")
    admitted = datetime(2026, 5, 10, 15, 0, tzinfo=UTC)  # 22:00 on 10 May in Phnom Penh, 01:00 on 11 May in Sydney
    phnom_penh_animal, sydney_animal = admit(at=admitted), admit(at=admitted, facility=sydney)
    assert quarantine_state(phnom_penh_animal, NOW).days_left == -1
    assert quarantine_state(sydney_animal, NOW).days_left == 0

    assert run_twice(jobs.flag_quarantine, NOW) == 2
    assert sorted((r.animal_id, r.kind, r.facility_id) for r in rows()) == [
        (phnom_penh_animal.id, "quarantine_overdue", facility.id),
        (sydney_animal.id, "quarantine_ending", sydney.id)]


def test_ending_turns_into_overdue_and_clearance_resolves_it(admit, vet):
    animal = admit(at=local(date(2026, 5, 12), 10))  # ends 11 June
    assert jobs.flag_quarantine(NOW) == 1
    [ending] = rows()
    assert ending.kind == "quarantine_ending"

    # 12 June, 00:00:01 in Phnom Penh: the end was yesterday.
    next_day = local(date(2026, 6, 12), 0) + SECOND
    assert run_twice(jobs.flag_quarantine, local(date(2026, 6, 11), 23)) == 0
    assert run_twice(jobs.flag_quarantine, next_day) == 1
    ending, overdue = rows()
    assert_resolved_by_job(ending, next_day)
    assert (overdue.kind, overdue.status, overdue.animal_id) == ("quarantine_overdue", "open", animal.id)

    cleared_at = next_day + timedelta(hours=9)
    clear_quarantine(animal, user=vet, now=cleared_at)
    assert run_twice(jobs.flag_quarantine, cleared_at) == 0
    assert_resolved_by_job(rows()[1], cleared_at)


def test_leaving_care_resolves_quarantine_alerts_and_one_resolved_by_hand_stays_resolved(admit, vet):
    died, handled = admit(45), admit(45)
    jobs.flag_quarantine(NOW)
    alerts = {row.animal_id: row for row in rows()}
    record_death(died, user=vet, occurred_at=NOW, now=LATER)
    resolve_alert(fresh(alerts[handled.id].id), user=vet, now=NOW)

    assert run_twice(jobs.flag_quarantine, LATER) == 0
    assert_resolved_by_job(by_key(f"quarantine_overdue:{died.id}")[0], LATER)
    [kept] = by_key(f"quarantine_overdue:{handled.id}")
    assert (kept.status, kept.resolved_by_id, kept.resolved_at) == ("resolved", vet.id, NOW)
