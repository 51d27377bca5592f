"""The coordinators' jobs with a fixed now: flag_release_readiness and flag_evidence_holds.

Checklists are the defaults (app.releases.seed); a ready macaque is built as
tests/releases/conftest.py's ready_macaque is, but on NOW's clock.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.alerts import jobs
from app.alerts.services import acknowledge_alert, resolve_alert
from app.animals.models import Releasability
from app.animals.services import review_evidence_hold, set_evidence_hold
from app.extensions import db
from app.releases.models import Assessment, PlannedAnimal, ReleaseSite
from app.releases.plans import cancel_plan, create_plan
from app.releases.seed import seed_release_criteria
from app.releases.services import record_assessment
from app.vet.deaths import record_death
from tests import factories
from tests.alerts.conftest import NOW
from tests.alerts.jobs_support import assert_resolved_by_job, by_key, fresh, rows, run_twice, summary, unresolved
from tests.releases.conftest import MACAQUE_MANUAL, assess
from tests.releases.conftest import weigh as weigh_with_bcs

DAY = timedelta(days=1)
LATER = NOW + timedelta(hours=2)


@pytest.fixture
def criteria(db):
    return seed_release_criteria()


@pytest.fixture
def site(db):
    site = ReleaseSite(name="Phnom Kulen", province="Siem Reap", latitude=Decimal("13.58"),
                       longitude=Decimal("104.11"), suitable_taxa=["mammal", "reptile"])
    db.session.add(site)
    db.session.flush()
    return site


@pytest.fixture
def coordinator(make_user):
    return make_user("coordinator")


@pytest.fixture
def vet(make_user):
    return make_user("vet")


@pytest.fixture
def macaque(facility, criteria):
    """make(**kwargs): a long-tailed macaque meeting every default mammal criterion at NOW.

    Its manual criteria were assessed an hour before NOW, unless assessed={key: when} says otherwise.
    """

    def _make(*, facility=facility, days_in_care=120, assessed=None, **kwargs):
        animal = factories.AnimalFactory(case=factories.CaseFactory(facility=facility), name="Srey",
                                         admitted_at=NOW - days_in_care * DAY,
                                         quarantine_cleared_on=(NOW - 60 * DAY).date(), **kwargs)
        weigh_with_bcs(animal, 5200, bcs=5, at=NOW - DAY)
        for key in MACAQUE_MANUAL:
            assess(animal, key, at=(assessed or {}).get(key, NOW - timedelta(hours=1)))
        return animal

    return _make


def turtle_lot(facility):
    """A lot of 50 box turtles meeting the reptile checklist."""
    species = factories.SpeciesFactory(taxon_class="reptile", common_name_en="Amboina box turtle")
    lot = factories.AnimalFactory(case=factories.CaseFactory(facility=facility), species=species, intake_quantity=50,
                                  admitted_at=NOW - 90 * DAY, quarantine_cleared_on=(NOW - 30 * DAY).date())
    weigh_with_bcs(lot, 400, bcs=5, at=NOW - DAY)
    assess(lot, "feeds_unassisted", at=NOW - timedelta(hours=1))
    return lot


def hold(case, at, *, user=None):
    """An evidence hold set at `at` (the service stamps the real clock; the test's clock is NOW's)."""
    change = set_evidence_hold(case, active=True, reason="Court case pending", user=user)
    change.changed_at = case.evidence_hold_since = at
    db.session.flush()
    return change


def review(case, at, *, user=None):
    """A coordinator's confirmation at `at` that the hold is still needed."""
    change = review_evidence_hold(case, reason="The prosecutor still needs the animals", user=user)
    change.changed_at = at
    db.session.flush()
    return change


def latest_assessment_id() -> int:
    return db.session.scalar(select(func.max(Assessment.id)))


# --- ready for release -----------------------------------------------------------------------------

def test_animals_that_became_ready_are_flagged(macaque, other_facility, criteria):
    ready = macaque()
    lot = turtle_lot(other_facility)
    unassessed = macaque()
    assess(unassessed, "climbs_well", "fail", at=NOW - timedelta(minutes=30))
    resident = macaque(releasability=Releasability.NON_RELEASABLE, releasability_reason="Blind in one eye")
    held = macaque()
    hold(held.case, NOW - 5 * DAY)

    assert run_twice(jobs.flag_release_readiness, NOW) == 2
    assert sorted((r.kind, r.animal_id, r.facility_id, r.severity, r.status, r.dedup_key) for r in rows()) == [
        ("release_ready", ready.id, ready.facility_id, "info", "open", f"release_ready:{ready.id}:0"),
        ("release_ready", lot.id, other_facility.id, "info", "open", f"release_ready:{lot.id}:0"),
    ]
    assert all((r.task_id, r.case_id, r.reference_at, r.reference_value) == (None, None, None, None) for r in rows())
    assert {r.animal_id for r in rows()}.isdisjoint({unassessed.id, resident.id, held.id})


def test_a_release_plan_resolves_it_and_cancelling_the_plan_raises_it_anew(macaque, site, coordinator):
    animal = macaque()
    jobs.flag_release_readiness(NOW)
    [first] = rows()

    plan = create_plan(site=site, planned_on=date(2026, 6, 20), animals=[{"animal_id": animal.id}],
                       user=coordinator, now=NOW)
    assert run_twice(jobs.flag_release_readiness, LATER) == 0
    assert_resolved_by_job(rows()[0], LATER)

    cancel_plan(plan, user=coordinator, reason="Site flooded", now=LATER)
    assert run_twice(jobs.flag_release_readiness, LATER + DAY) == 1
    old, new = rows()
    assert (old.id, old.status, old.dedup_key) == (first.id, "resolved", f"release_ready:{animal.id}:0")
    planned_id = db.session.scalar(select(PlannedAnimal.id).where(PlannedAnimal.plan_id == plan.id))
    assert (new.dedup_key, new.status, new.raised_at) == (f"release_ready:{animal.id}:{planned_id}", "open",
                                                          LATER + DAY)


def test_a_hold_an_expired_assessment_or_leaving_care_resolves_it(macaque, coordinator):
    held, died = macaque(), macaque()
    expiring = macaque(assessed={"avoids_humans": NOW - 29 * DAY})  # expires a day after NOW
    assert jobs.flag_release_readiness(NOW) == 4
    assert sorted(r.animal_id for r in rows("release_ready")) == [held.id, died.id, expiring.id]
    assert [(r.animal_id, r.severity) for r in rows("assessment_expiring")] == [(expiring.id, "info")]

    hold(held.case, NOW + DAY, user=coordinator)
    record_death(died, user=None, occurred_at=NOW, now=LATER)
    two_days_on = NOW + 2 * DAY
    assert run_twice(jobs.flag_release_readiness, two_days_on) == 0
    for row in rows("release_ready"):
        assert_resolved_by_job(row, two_days_on)
    # The expired assessment's own alert stays, now a warning: the criterion is unmet until reassessed.
    assert [(r.animal_id, r.severity, r.status) for r in rows("assessment_expiring")] == [
        (expiring.id, "warning", "open")]


def test_a_ready_alert_resolved_by_hand_stays_resolved_until_a_plan_of_it_is_cancelled(macaque, site, coordinator):
    animal = macaque()
    jobs.flag_release_readiness(NOW)
    [alert] = rows()
    resolve_alert(fresh(alert.id), user=coordinator, now=NOW)
    assert run_twice(jobs.flag_release_readiness, LATER) == 0
    assert summary() == [(alert.id, "release_ready", "info", "resolved", f"release_ready:{animal.id}:0")]

    plan = create_plan(site=site, planned_on=date(2026, 6, 20), animals=[{"animal_id": animal.id}],
                       user=coordinator, now=LATER)
    cancel_plan(plan, user=coordinator, reason="Permit refused", now=LATER)
    assert run_twice(jobs.flag_release_readiness, LATER + DAY) == 1
    assert [r.status for r in rows()] == ["resolved", "open"]


# --- readiness reviews -------------------------------------------------------------------------------

def test_animals_past_their_expected_stay_without_a_recent_assessment(facility, criteria, site, coordinator):
    def animal(days, **kwargs):
        return factories.AnimalFactory(case=factories.CaseFactory(facility=facility), admitted_at=NOW - days * DAY,
                                       **kwargs)

    never = animal(181)  # a mammal: 180 days expected
    stale = animal(200)
    assess(stale, "avoids_humans", "fail", at=NOW - 31 * DAY, expires_days=60)
    assess(stale, "climbs_well", "fail", at=NOW - 30 * DAY - timedelta(minutes=1), expires_days=60)
    last = latest_assessment_id()
    recent = animal(200)
    assess(recent, "avoids_humans", "fail", at=NOW - 29 * DAY, expires_days=60)
    within_stay = animal(179)
    own_stay = animal(61, species=factories.SpeciesFactory(expected_stay_days=60))
    resident = animal(400, releasability=Releasability.NON_RELEASABLE, releasability_reason="Habituated")
    planned = animal(400)
    create_plan(site=site, planned_on=date(2026, 6, 20), user=coordinator, now=NOW,
                animals=[{"animal_id": planned.id, "override_reason": "Soft release with monitoring"}])

    assert run_twice(jobs.flag_release_readiness, NOW) == 3
    found = {r.animal_id: r for r in rows("readiness_review")}
    assert set(found) == {never.id, stale.id, own_stay.id}
    assert {a: (r.severity, r.dedup_key, r.reference_at, r.facility_id) for a, r in found.items()} == {
        never.id: ("info", f"readiness_review:{never.id}:0", None, facility.id),
        stale.id: ("info", f"readiness_review:{stale.id}:{last}", NOW - 30 * DAY - timedelta(minutes=1), facility.id),
        own_stay.id: ("info", f"readiness_review:{own_stay.id}:0", None, facility.id),
    }
    assert not {recent.id, within_stay.id, resident.id, planned.id} & set(found)


def test_an_assessment_resolves_the_review(facility, criteria, coordinator):
    animal = factories.AnimalFactory(case=factories.CaseFactory(facility=facility), admitted_at=NOW - 200 * DAY)
    jobs.flag_release_readiness(NOW)
    [alert] = rows("readiness_review")
    acknowledge_alert(fresh(alert.id), user=coordinator, now=NOW)

    record_assessment(animal, user=coordinator, criterion="avoids_humans", result="fail", now=LATER)
    assert run_twice(jobs.flag_release_readiness, LATER) == 0
    assert_resolved_by_job(rows("readiness_review")[0], LATER)


# --- assessments expiring ----------------------------------------------------------------------------

def test_passed_assessments_expiring_within_a_week_or_expired(facility, criteria):
    def animal(**kwargs):
        return factories.AnimalFactory(case=factories.CaseFactory(facility=facility), admitted_at=NOW - 100 * DAY,
                                       **kwargs)

    monkey = animal()
    assess(monkey, "avoids_humans", at=NOW - 23 * DAY)  # 30-day validity: expires in exactly 7 days
    in_a_week = latest_assessment_id()
    assess(monkey, "climbs_well", at=NOW - 31 * DAY)  # expired yesterday
    expired = latest_assessment_id()
    assess(monkey, "forages_natural_food", at=NOW - 23 * DAY + timedelta(minutes=1))  # a minute more: not yet
    other = animal()
    assess(other, "climbs_well", at=NOW - 29 * DAY)  # passed, then failed since: nothing to renew
    assess(other, "climbs_well", "fail", at=NOW - 2 * DAY)
    resident = animal(releasability=Releasability.NON_RELEASABLE, releasability_reason="Habituated")
    assess(resident, "avoids_humans", at=NOW - 29 * DAY)

    assert run_twice(jobs.flag_release_readiness, NOW) == 2
    assert sorted((r.dedup_key, r.severity, r.reference_at, r.animal_id, r.facility_id)
                  for r in rows("assessment_expiring")) == sorted([
        (f"assessment_expiring:{expired}", "warning", NOW - DAY, monkey.id, facility.id),
        (f"assessment_expiring:{in_a_week}", "info", NOW + 7 * DAY, monkey.id, facility.id),
    ])


def test_a_renewed_assessment_resolves_it_and_the_info_turns_warning_once_expired(facility, criteria, vet):
    monkey = factories.AnimalFactory(case=factories.CaseFactory(facility=facility), admitted_at=NOW - 100 * DAY)
    assess(monkey, "avoids_humans", at=NOW - 25 * DAY)  # expires in 5 days
    assess(monkey, "climbs_well", at=NOW - 25 * DAY)
    jobs.flag_release_readiness(NOW)
    avoids, climbs = rows("assessment_expiring")
    acknowledge_alert(fresh(avoids.id), user=vet, now=NOW)

    six_days_on = NOW + 6 * DAY
    record_assessment(monkey, user=vet, criterion="avoids_humans", result="pass", now=six_days_on)
    assert run_twice(jobs.flag_release_readiness, six_days_on) == 0
    avoids, climbs = rows("assessment_expiring")
    assert_resolved_by_job(avoids, six_days_on)
    assert (climbs.severity, climbs.status, climbs.reference_at) == ("warning", "open", NOW + 5 * DAY)


# --- evidence holds ----------------------------------------------------------------------------------

def test_holds_neither_set_nor_reviewed_in_90_days(facility, other_facility):
    def case(where=facility):
        return factories.CaseFactory(facility=where)

    old = case()
    set_long_ago = hold(old, NOW - 100 * DAY)
    hold(case(), NOW - 89 * DAY)
    exactly = case()
    hold(exactly, NOW - 90 * DAY)  # exactly 90 days: due, not yet overdue
    reviewed = case()
    hold(reviewed, NOW - 200 * DAY)
    review(reviewed, NOW - 30 * DAY)
    review_due = case(other_facility)
    hold(review_due, NOW - 200 * DAY)
    last_review = review(review_due, NOW - 95 * DAY)
    lifted = case()
    hold(lifted, NOW - 200 * DAY)
    set_evidence_hold(lifted, active=False, reason="Verdict given", user=None)
    case()  # never held

    assert run_twice(jobs.flag_evidence_holds, NOW) == 2
    assert sorted((r.case_id, r.kind, r.severity, r.status, r.facility_id, r.dedup_key, r.reference_at)
                  for r in rows()) == [
        (old.id, "hold_review", "warning", "open", facility.id, f"hold_review:{old.id}:{set_long_ago.id}",
         NOW - 100 * DAY),
        (review_due.id, "hold_review", "warning", "open", other_facility.id,
         f"hold_review:{review_due.id}:{last_review.id}", NOW - 95 * DAY),
    ]
    assert all((r.animal_id, r.task_id, r.reference_value) == (None, None, None) for r in rows())


def test_a_review_or_lifting_the_hold_resolves_it(coordinator):
    reviewed, lifted = factories.CaseFactory(), factories.CaseFactory()
    for case in (reviewed, lifted):
        hold(case, NOW - 100 * DAY)
    jobs.flag_evidence_holds(NOW)
    acknowledge_alert(fresh(rows()[0].id), user=coordinator, now=NOW)

    review(reviewed, LATER, user=coordinator)
    set_evidence_hold(lifted, active=False, reason="Case closed", user=coordinator)
    assert run_twice(jobs.flag_evidence_holds, LATER) == 0
    for row in rows():
        assert_resolved_by_job(row, LATER)


def test_a_hold_alert_resolved_by_hand_returns_only_after_the_next_90_days(coordinator):
    case = factories.CaseFactory()
    hold(case, NOW - 100 * DAY)
    jobs.flag_evidence_holds(NOW)
    [alert] = rows()
    resolve_alert(fresh(alert.id), user=coordinator, now=NOW)
    assert run_twice(jobs.flag_evidence_holds, NOW + 10 * DAY) == 0
    assert unresolved() == []

    # Reviewed on the day, the hold is due again 90 days later: a new episode, a new alert.
    change = review(case, NOW, user=coordinator)
    assert run_twice(jobs.flag_evidence_holds, NOW + 90 * DAY + timedelta(seconds=1)) == 1
    [new] = unresolved()
    assert (new.dedup_key, new.reference_at) == (f"hold_review:{case.id}:{change.id}", NOW)
    assert by_key(alert.dedup_key)[0].resolved_by_id == coordinator.id
