"""Observations after a release, their page and the record's list, and each plan's survival summary.

Observations follow a release: an animal never released has none. Field teams type
coordinates; the record shows them only to those who may see restricted fields. A
plan's summary counts an animal seen twice once, and reads the same two queries
whatever the number of plans.
"""

import html as htmllib
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.common.db import utcnow
from app.extensions import db as _db
from app.releases.models import Observation
from app.releases.monitoring import record_observation, survival_summaries
from app.releases.plans import approve_plan, complete_plan, create_plan, vet_signoff
from app.releases.services import ReleaseError
from tests.reference import error_next_to

ZONE = ZoneInfo("Asia/Phnom_Penh")


def _text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def _switch(client, login, role):
    """Sign out, then in as a new user of `role` (the sign-in page sends a signed-in user home)."""
    assert client.post_form("/logout").status_code == 302
    return login(role)


def _local(hours_ago=1) -> str:
    return (utcnow() - timedelta(hours=hours_ago)).astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def staff(make_user):
    return {"coordinator": make_user("coordinator"), "vet": make_user("vet")}


@pytest.fixture
def release(db, site, staff):
    """release(animal, count=None, completed_on=None): a plan for the animal, signed off, approved and completed."""
    if site.id is None:
        _db.session.add(site)
        _db.session.flush()

    def _release(animal, count=None, completed_on=None):
        row = {"animal_id": animal.id} if count is None else {"animal_id": animal.id, "count": count}
        plan = create_plan(site=site, planned_on=utcnow().astimezone(ZONE).date(), animals=[row],
                           user=staff["coordinator"])
        vet_signoff(plan, user=staff["vet"], notes="Fit to go")
        approve_plan(plan, user=staff["coordinator"], permit_reference="GDANCP 117/26")
        return complete_plan(plan, user=staff["coordinator"], completed_on=completed_on)

    return _release


def _observe(animal, kind, count=1, hours_ago=1, **values):
    return record_observation(animal, user=None, kind=kind, observed_at=utcnow() - timedelta(hours=hours_ago),
                              count=count, **values)


# --- the service --------------------------------------------------------------------------------

def test_an_observation_of_a_released_animal_belongs_to_its_plan(db, ready_macaque, release, staff):
    plan = release(ready_macaque)
    assert ready_macaque.status == "released"
    observation = record_observation(ready_macaque, user=staff["coordinator"], kind="telemetry",
                                     observed_at=utcnow() - timedelta(hours=5), latitude="13.601234",
                                     longitude=104.2, notes="Collar fix, moving north")
    assert (observation.plan_id, observation.kind, observation.count) == (plan.id, "telemetry", 1)
    assert (observation.latitude, observation.longitude) == (Decimal("13.601234"), Decimal("104.200000"))


def test_no_observation_of_an_animal_never_released(db, turtles):
    with pytest.raises(ReleaseError) as refused:
        _observe(turtles, "sighting")
    assert "has not been released" in refused.value.fields["animal"][0]
    assert db.session.scalar(select(Observation.id)) is None


def test_observations_are_checked(db, turtles, release):
    release(turtles, count=10)
    for values, field in (({"kind": "heard"}, "kind"), ({"kind": "sighting", "count": 11}, "count"),
                          ({"kind": "sighting", "latitude": "95", "longitude": "104"}, "latitude"),
                          ({"kind": "sighting", "latitude": "13.5"}, "latitude")):
        kind = values.pop("kind")
        with pytest.raises(ReleaseError) as refused:
            _observe(turtles, kind, **values)
        assert field in refused.value.fields, values
    with pytest.raises(ReleaseError) as future:
        record_observation(turtles, user=None, kind="sighting", observed_at=utcnow() + timedelta(hours=1))
    assert "observed_at" in future.value.fields
    assert _observe(turtles, "sighting", count=10).count == 10


# --- survival --------------------------------------------------------------------------------------

def test_survival_counts_each_animal_once_and_its_deaths_and_recaptures(db, ready_macaque, turtles, release):
    # Released two days ago (by the facility's calendar): observations from then on are the monitoring's.
    two_days_ago = (utcnow() - timedelta(days=2)).astimezone(ZONE).date()
    macaque_plan = release(ready_macaque, completed_on=two_days_ago)
    _observe(ready_macaque, "sighting", hours_ago=30)
    last = _observe(ready_macaque, "sighting", hours_ago=2)
    turtle_plan = release(turtles, count=10, completed_on=two_days_ago)
    _observe(turtles, "sighting", count=3, hours_ago=20)
    _observe(turtles, "telemetry", count=5, hours_ago=10)
    _observe(turtles, "found_dead", count=2, hours_ago=8)
    _observe(turtles, "recaptured", count=1, hours_ago=4)
    summaries = survival_summaries([macaque_plan, turtle_plan])
    macaques, lot = summaries[macaque_plan.id], summaries[turtle_plan.id]
    assert (macaques.released, macaques.seen_alive, macaques.found_dead, macaques.recaptured, macaques.unknown) == (
        1, 1, 0, 0, 0), "two sightings of one animal count it once"
    assert macaques.last_observed_at == last.observed_at
    assert (lot.released, lot.seen_alive, lot.found_dead, lot.recaptured, lot.unknown) == (10, 5, 2, 1, 2)
    assert survival_summaries([]) == {}


def test_survival_reads_the_same_queries_for_1_and_5_plans(db, turtles, release, count_queries):
    yesterday = (utcnow() - timedelta(days=1)).astimezone(ZONE).date()
    plans = []
    for n in range(5):
        # Released the same day, their outcomes at the same time: the latest recorded release is the one observed.
        plans.append(release(turtles, count=2, completed_on=yesterday))
        _observe(turtles, "sighting", count=2)
        _observe(turtles, "found_dead" if n % 2 else "recaptured")
    assert [o.plan_id for o in db.session.scalars(select(Observation).order_by(Observation.id))] == [
        p.id for p in plans for _ in range(2)], "each observation belongs to the release just completed"
    with count_queries() as one:
        first = survival_summaries(plans[:1])
    with count_queries() as five:
        every = survival_summaries(plans)
    assert one.count == five.count == 2, f"{one}\n----\n{five}"
    assert first[plans[0].id] == every[plans[0].id]
    assert [(s.released, s.seen_alive, s.found_dead, s.recaptured) for s in every.values()] == [
        (2, 2, 0, 1), (2, 2, 1, 0), (2, 2, 0, 1), (2, 2, 1, 0), (2, 2, 0, 1)]


# --- the page and the record -----------------------------------------------------------------------

def test_a_keeper_records_a_sighting_with_coordinates(client, login, db, ready_macaque, release):
    plan = release(ready_macaque)
    db.session.commit()
    keeper = login("keeper")
    record = _text(client.get(f"/animals/{ready_macaque.id}"))
    assert f'href="/animals/{ready_macaque.id}/observations/new"' in record
    assert f'href="/animals/{ready_macaque.id}/transfer"' not in record, "it has left care"
    page = _text(client.get(f"/animals/{ready_macaque.id}/observations/new"))
    assert 'value="found_dead"' in page and 'name="latitude"' in page
    typed = _local(3)  # read once: the minute may turn while the test runs
    response = client.post_form(f"/animals/{ready_macaque.id}/observations/new", {
        "kind": "sighting", "observed_at": typed, "latitude": "13.612345", "longitude": "104.123456",
        "notes": "Feeding on figs with a wild troop"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/animals/{ready_macaque.id}")
    db.session.expire_all()
    observation = db.session.execute(select(Observation)).scalar_one()
    assert (observation.plan_id, observation.kind, observation.recorded_by_id) == (plan.id, "sighting", keeper.id)
    assert observation.latitude == Decimal("13.612345")
    assert observation.observed_at.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M") == typed


def test_coordinates_are_shown_on_the_record_only_to_coordinators(client, login, db, ready_macaque, release):
    release(ready_macaque)
    _observe(ready_macaque, "telemetry", latitude="13.612345", longitude="104.123456", notes="Collar fix")
    db.session.commit()
    login("keeper")
    keeper_view = _text(client.get(f"/animals/{ready_macaque.id}"))
    assert 'data-testid="observation"' in keeper_view and "Telemetry fix" in keeper_view
    assert "Collar fix" in keeper_view
    assert "13.612345" not in keeper_view and "104.123456" not in keeper_view
    _switch(client, login, "coordinator")
    coordinator_view = _text(client.get(f"/animals/{ready_macaque.id}"))
    assert "13.612345, 104.123456" in coordinator_view


def test_the_page_refuses_an_animal_never_released_and_a_missing_kind(client, login, db, turtles, ready_macaque,
                                                                     release):
    login("keeper")
    never = client.post_form(f"/animals/{turtles.id}/observations/new", {
        "kind": "sighting", "observed_at": _local(), "notes": "typed notes"})
    assert never.status_code == 422
    assert f"{turtles.accession_number} has not been released: observations follow a release." in _text(never)
    assert "typed notes" in _text(never)
    release(ready_macaque)
    db.session.commit()
    no_kind = client.post_form(f"/animals/{ready_macaque.id}/observations/new", {"observed_at": _local()})
    assert no_kind.status_code == 422
    assert error_next_to(_text(no_kind), "kind", "Sighting, telemetry, found dead or recaptured.")
    assert db.session.scalar(select(Observation.id)) is None


def test_viewers_do_not_record_observations(client, login, db, ready_macaque, release):
    release(ready_macaque)
    db.session.commit()
    login("viewer")
    assert client.get(f"/animals/{ready_macaque.id}/observations/new").status_code == 403
    assert client.post_form(f"/animals/{ready_macaque.id}/observations/new", {
        "kind": "sighting", "observed_at": _local()}).status_code == 403


def test_an_observation_before_the_day_of_the_release_is_refused(db, turtles, release):
    release(turtles, count=10)
    with pytest.raises(ReleaseError) as early:
        _observe(turtles, "sighting", hours_ago=72)
    assert "observed_at" in early.value.fields
