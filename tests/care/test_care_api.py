"""Daily care over the API: schedules and their tasks, completions, care logs and weights, retries."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.care.models import CareLog, CareTask, TaskStatus, Weight
from tests import factories
from tests.list_queries import assert_same_count_for_1_and_20


@pytest.fixture
def enclosure(db, facility):
    return factories.EnclosureFactory(facility=facility, code="B-2", name="Bear run")


@pytest.fixture
def animal(db, facility, enclosure):
    case = factories.CaseFactory(facility=facility)
    return factories.AnimalFactory(case=case, enclosure_id=enclosure.id, intake_quantity=3)


def _iso(when: datetime) -> str:
    return when.isoformat()


def _now() -> datetime:
    return datetime.now(UTC)


def _count(db, model, *where) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model).where(*where)).scalar_one()


def _schedule(client, headers, **body):
    response = client.post("/api/v1/care-schedules", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def _task(client, headers, **filters) -> dict:
    items = client.get("/api/v1/tasks", query_string=filters, headers=headers).json["items"]
    assert items, f"no task for {filters}"
    return items[0]


def _open_task(db, facility, *, kind="feed", due_at=None, animal=None, enclosure=None) -> CareTask:
    task = CareTask(facility_id=facility.id, kind=kind, due_at=due_at or _now() - timedelta(hours=3),
                    animal_id=animal.id if animal else None, enclosure_id=enclosure.id if enclosure else None)
    db.session.add(task)
    db.session.flush()
    return task


# --- schedules and tasks ---------------------------------------------------------------------------

def test_a_schedule_makes_tasks_listed_with_their_state(client, bearer, animal, facility, db):
    headers = bearer("vet")
    created = _schedule(client, headers, animal_id=animal.id, kind="feed", times=["16:00", "08:00", "08:00"],
                        instructions="Fruit and leaves", diet_items=[{"food": "banana", "grams": 150.5}])
    assert created["times"] == ["08:00", "16:00"]
    assert (created["facility_id"], created["is_active"], created["version"]) == (facility.id, True, 1)
    assert created["diet_items"] == [{"food": "banana", "grams": 150.5, "preparation": ""}]
    assert client.get(f"/api/v1/care-schedules/{created['id']}", headers=headers).json == created

    tasks = client.get("/api/v1/tasks", query_string={"animal_id": animal.id}, headers=bearer("viewer")).json
    # Tomorrow's two feeds at least (today's past times are not made).
    assert 2 <= tasks["meta"]["total"] <= 4
    first = tasks["items"][0]
    assert {first["kind"], first["status"], first["schedule_id"], first["animal_id"]} == \
        {"feed", "open", created["id"], animal.id}
    assert first["state"] in ("due", "later") and first["done_at"] is None
    due = [t["due_at"] for t in tasks["items"]]
    assert due == sorted(due)

    listed = client.get("/api/v1/care-schedules", query_string={"animal_id": animal.id}, headers=headers).json
    assert [s["id"] for s in listed["items"]] == [created["id"]]


def test_task_filters_and_overdue_state(client, bearer, facility, animal, enclosure, db):
    late = _open_task(db, facility, kind="feed", animal=animal, due_at=_now() - timedelta(hours=3))
    _open_task(db, facility, kind="clean", enclosure=enclosure, due_at=_now() + timedelta(hours=3))
    headers = bearer("keeper")
    overdue = client.get("/api/v1/tasks?status=overdue", headers=headers).json["items"]
    assert [(t["id"], t["state"]) for t in overdue] == [(late.id, "overdue")]
    by_enclosure = client.get(f"/api/v1/tasks?enclosure_id={enclosure.id}", headers=headers).json
    assert by_enclosure["meta"]["total"] == 2  # the enclosure's own task and its occupant's
    later = client.get("/api/v1/tasks?kind=clean", headers=headers).json["items"]
    assert [t["state"] for t in later] == ["later"]
    cutoff = _iso(_now())
    before = client.get("/api/v1/tasks", query_string={"due_before": cutoff}, headers=headers).json["items"]
    assert [t["id"] for t in before] == [late.id]
    for bad in ("status=lost", "kind=dance", "due_before=yesterday", "animal_id=x"):
        assert client.get(f"/api/v1/tasks?{bad}", headers=headers).status_code == 422, bad


def test_stale_schedule_edit_is_409_and_a_fresh_one_retimes(client, bearer, enclosure):
    headers = bearer("coordinator")
    created = _schedule(client, headers, enclosure_id=enclosure.id, kind="clean", times=["09:00"])
    url = f"/api/v1/care-schedules/{created['id']}"
    changed = client.patch(url, json={"version": created["version"], "times": ["10:00", "17:00"]}, headers=headers)
    assert changed.status_code == 200, changed.json
    assert changed.json["times"] == ["10:00", "17:00"] and changed.json["version"] == created["version"] + 1
    stale = client.patch(url, json={"version": created["version"], "instructions": "late edit"}, headers=headers)
    assert stale.status_code == 409
    assert stale.json["error"]["code"] == "conflict"
    assert stale.json["error"]["current"]["times"] == ["10:00", "17:00"]
    assert client.patch(url, json={"times": ["11:00"]}, headers=headers).status_code == 422  # no version


def test_changing_only_the_interval_keeps_the_times_of_day(client, bearer, enclosure):
    headers = bearer("vet")
    created = _schedule(client, headers, enclosure_id=enclosure.id, kind="feed", times=["07:00", "15:00"])
    url = f"/api/v1/care-schedules/{created['id']}"
    changed = client.patch(url, json={"version": created["version"], "every_days": 2}, headers=headers)
    assert changed.status_code == 200, changed.json
    assert (changed.json["times"], changed.json["every_days"]) == (["07:00", "15:00"], 2)


def test_ending_a_schedule_cancels_its_open_tasks(client, bearer, enclosure):
    headers = bearer("vet")
    created = _schedule(client, headers, enclosure_id=enclosure.id, kind="clean", times=["09:00"])
    ended = client.patch(f"/api/v1/care-schedules/{created['id']}",
                         json={"version": created["version"], "is_active": False}, headers=headers)
    assert ended.status_code == 200 and ended.json["is_active"] is False
    assert client.get("/api/v1/tasks?status=open", headers=headers).json["meta"]["total"] == 0
    assert client.get("/api/v1/care-schedules", headers=headers).json["meta"]["total"] == 0
    assert client.get("/api/v1/care-schedules?active=false", headers=headers).json["meta"]["total"] == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"times": ["25:00"]}, "times"),
    ({"times": ["8am"]}, "times"),
    ({"times": []}, "times"),
    ({"times": "08:00"}, "times"),
    ({"times": [8]}, "times"),
    ({"every_days": 0}, "every_days"),
    ({"every_days": "2"}, "every_days"),
    ({"kind": "dance"}, "kind"),
    ({"kind": None}, "kind"),
    ({"diet_items": [{"grams": 10}]}, "diet_items"),
    ({"diet_items": [{"food": "fish", "grams": -1}]}, "diet_items"),
    ({"starts_on": "2026-05-02", "ends_on": "2026-05-01"}, "ends_on"),
    ({"starts_on": "tomorrow"}, "starts_on"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_schedules_are_422_with_field_messages(client, bearer, animal, body, field, db):
    response = client.post("/api/v1/care-schedules", json={"animal_id": animal.id, "kind": "feed",
                                                           "times": ["08:00"], **body}, headers=bearer("vet"))
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_error"
    assert field in response.json["error"]["fields"], response.json
    assert _count(db, CareTask) == 0


def test_a_schedule_is_for_an_animal_or_an_enclosure(client, bearer, animal, enclosure, other_facility):
    headers = bearer("vet")
    both = client.post("/api/v1/care-schedules", json={"animal_id": animal.id, "enclosure_id": enclosure.id,
                                                       "kind": "feed", "times": ["08:00"]}, headers=headers)
    assert both.status_code == 422 and "animal_id" in both.json["error"]["fields"]
    neither = client.post("/api/v1/care-schedules", json={"kind": "feed", "times": ["08:00"]}, headers=headers)
    assert neither.status_code == 422 and "animal_id" in neither.json["error"]["fields"]
    elsewhere = factories.EnclosureFactory(facility=other_facility)
    outside = client.post("/api/v1/care-schedules", json={"enclosure_id": elsewhere.id, "kind": "clean",
                                                          "times": ["08:00"]}, headers=headers)
    assert outside.status_code == 404


def test_keepers_log_care_but_plan_nothing(client, bearer, animal):
    body = {"animal_id": animal.id, "kind": "feed", "times": ["08:00"]}
    assert client.post("/api/v1/care-schedules", json=body, headers=bearer("keeper")).status_code == 403
    assert client.get("/api/v1/care-schedules", headers=bearer("keeper")).status_code == 200


# --- completing tasks --------------------------------------------------------------------------------

def test_completing_a_task_and_retrying_it_stores_one_log(client, bearer, facility, animal, db):
    task = _open_task(db, facility, kind="feed", animal=animal)
    headers = bearer("keeper")
    body = {"client_id": "tablet-1-0001", "eaten": "most", "notes": "ate the fruit first"}
    first = client.post(f"/api/v1/tasks/{task.id}/complete", json=body, headers=headers)
    assert first.status_code == 201, first.json
    log = first.json
    assert (log["task_id"], log["kind"], log["animal_id"], log["eaten"], log["late_entry"]) == \
        (task.id, "feed", animal.id, "most", False)
    again = client.post(f"/api/v1/tasks/{task.id}/complete", json=body, headers=headers)
    assert again.status_code == 201
    assert again.json == log
    assert _count(db, CareLog) == 1
    listed = client.get(f"/api/v1/tasks?animal_id={animal.id}", headers=headers).json["items"]
    assert (listed[0]["status"], listed[0]["state"]) == ("done", "done") and listed[0]["done_at"]

    someone_else = client.post(f"/api/v1/tasks/{task.id}/complete", json={"client_id": "tablet-2-0001"},
                               headers=bearer("keeper"))
    assert someone_else.status_code == 409
    assert someone_else.json["error"]["code"] == "conflict"
    assert _count(db, CareLog) == 1


def test_a_weigh_task_needs_grams_and_records_the_weight(client, bearer, facility, animal, db):
    task = _open_task(db, facility, kind="weigh", animal=animal)
    headers = bearer("keeper")
    url = f"/api/v1/tasks/{task.id}/complete"
    missing = client.post(url, json={"client_id": "weigh-0001"}, headers=headers)
    assert missing.status_code == 422 and "grams" in missing.json["error"]["fields"]
    wrong = client.post(url, json={"client_id": "weigh-0001", "grams": "heavy", "bcs": 12}, headers=headers)
    assert wrong.status_code == 422 and "grams" in wrong.json["error"]["fields"]
    bad_score = client.post(url, json={"client_id": "weigh-0001", "grams": 812.26, "bcs": 12}, headers=headers)
    assert bad_score.status_code == 422 and "bcs" in bad_score.json["error"]["fields"]
    assert db.session.get(CareTask, task.id).status == TaskStatus.OPEN
    done = client.post(url, json={"client_id": "weigh-0001", "grams": 812.26, "bcs": 5}, headers=headers)
    assert done.status_code == 201, done.json
    weights = client.get(f"/api/v1/animals/{animal.id}/weights", headers=headers).json["items"]
    assert [(w["grams"], w["bcs"], w["care_log_id"]) for w in weights] == [(812.3, 5, done.json["id"])]


def test_completion_input_is_checked(client, bearer, facility, animal, enclosure, db):
    feed = _open_task(db, facility, kind="feed", animal=animal)
    clean = _open_task(db, facility, kind="clean", enclosure=enclosure)
    headers = bearer("keeper")
    cases = [
        (feed, {}, "client_id"),
        (feed, {"client_id": "short"}, "client_id"),
        (feed, {"client_id": "tablet-1-0002", "eaten": "lots"}, "eaten"),
        (feed, {"client_id": "tablet-1-0002", "head_count": 9}, "head_count"),
        (feed, {"client_id": "tablet-1-0002", "head_count": "2"}, "head_count"),
        (feed, {"client_id": "tablet-1-0002", "done_at": "2026-01-01T08:00:00"}, "done_at"),
        (clean, {"client_id": "tablet-1-0003", "eaten": "all"}, "eaten"),
    ]
    for task, body, field in cases:
        response = client.post(f"/api/v1/tasks/{task.id}/complete", json=body, headers=headers)
        assert response.status_code == 422, (body, response.json)
        assert field in response.json["error"]["fields"], (body, response.json)
    assert client.post("/api/v1/tasks/999999/complete", json={"client_id": "tablet-1-0004"},
                       headers=headers).status_code == 404
    assert _count(db, CareLog) == 0


def test_an_enclosure_task_completes_with_an_enclosure_log(client, bearer, facility, enclosure, db):
    task = _open_task(db, facility, kind="clean", enclosure=enclosure)
    response = client.post(f"/api/v1/tasks/{task.id}/complete", json={"client_id": "clean-run-0001"},
                           headers=bearer("vet"))
    assert response.status_code == 201, response.json
    assert (response.json["enclosure_id"], response.json["animal_id"]) == (enclosure.id, None)


def test_a_cancelled_task_cannot_be_completed(client, bearer, facility, animal, db):
    task = _open_task(db, facility, kind="feed", animal=animal)
    task.status = TaskStatus.CANCELLED
    db.session.flush()
    response = client.post(f"/api/v1/tasks/{task.id}/complete", json={"client_id": "tablet-1-0005"},
                           headers=bearer("keeper"))
    assert response.status_code == 422 and "task" in response.json["error"]["fields"]


# --- care logs ---------------------------------------------------------------------------------------

def test_a_care_log_posted_twice_is_stored_once(client, bearer, animal, db):
    headers = bearer("keeper")
    body = {"kind": "observe", "client_id": "obs-5b1c-0001", "behaviour": "pacing", "stool": "normal",
            "head_count": 3}
    url = f"/api/v1/animals/{animal.id}/care-logs"
    first = client.post(url, json=body, headers=headers)
    assert first.status_code == 201, first.json
    again = client.post(url, json=body, headers=headers)
    assert (again.status_code, again.json) == (201, first.json)
    assert _count(db, CareLog) == 1
    assert first.json["recorded_at"] and first.json["task_id"] is None and first.json["behaviour"] == "pacing"

    client.post(url, json={"kind": "feed", "client_id": "feed-5b1c-0002", "eaten": "all",
                           "done_at": _iso(_now() - timedelta(hours=2))}, headers=headers)
    listed = client.get(url, headers=bearer("viewer")).json
    assert listed["meta"]["total"] == 2
    assert [item["kind"] for item in listed["items"]] == ["observe", "feed"]  # newest first


def test_care_log_times_future_late_and_too_old(client, bearer, animal):
    headers = bearer("keeper")
    url = f"/api/v1/animals/{animal.id}/care-logs"

    def post(n, when):
        return client.post(url, json={"kind": "feed", "client_id": f"time-check-{n:04d}", "done_at": _iso(when)},
                           headers=headers)

    future = post(1, _now() + timedelta(hours=1))
    assert future.status_code == 422
    assert "future" in " ".join(future.json["error"]["fields"]["done_at"])
    late = post(2, _now() - timedelta(hours=10))
    assert late.status_code == 201 and late.json["late_entry"] is True
    on_time = post(3, _now() - timedelta(minutes=5))
    assert on_time.status_code == 201 and on_time.json["late_entry"] is False
    too_old = post(4, _now() - timedelta(hours=49))
    assert too_old.status_code == 422 and "done_at" in too_old.json["error"]["fields"]
    offset = post(5, (_now() - timedelta(hours=1, minutes=30)).astimezone(
        datetime.now().astimezone().tzinfo))
    assert offset.status_code == 201 and offset.json["done_at"].endswith("+00:00")


def test_a_client_id_reused_for_another_animal_is_refused(client, bearer, animal, facility, db):
    headers = bearer("keeper")
    body = {"kind": "observe", "client_id": "obs-reused-0001"}
    assert client.post(f"/api/v1/animals/{animal.id}/care-logs", json=body, headers=headers).status_code == 201
    other = factories.AnimalFactory(case=factories.CaseFactory(facility=facility))
    response = client.post(f"/api/v1/animals/{other.id}/care-logs", json=body, headers=headers)
    assert response.status_code == 422 and "client_id" in response.json["error"]["fields"]


@pytest.mark.parametrize("body", [
    {"client_id": "bad-input-0001"},
    {"kind": "observe"},
    {"kind": "dance", "client_id": "bad-input-0001"},
    {"kind": 3, "client_id": "bad-input-0001"},
    {"kind": "observe", "client_id": "bad-input-0001", "done_at": "soon"},
    {"kind": "observe", "client_id": "bad-input-0001", "head_count": -1},
    {"kind": "observe", "client_id": "bad-input-0001", "eaten": "all"},
    {"kind": "observe", "client_id": "x" * 65},
    {"kind": "observe", "client_id": "bad-input-0001", "task_id": 1},
])
def test_bad_care_logs_are_422(client, bearer, animal, body, db):
    response = client.post(f"/api/v1/animals/{animal.id}/care-logs", json=body, headers=bearer("keeper"))
    assert response.status_code == 422, response.json
    assert response.json["error"]["fields"]
    assert _count(db, CareLog) == 0


def test_no_care_is_logged_for_an_animal_that_left_care(client, bearer, animal, db):
    animal.status = "released"
    db.session.flush()
    response = client.post(f"/api/v1/animals/{animal.id}/care-logs", json={"kind": "feed", "client_id": "gone-0001"},
                           headers=bearer("keeper"))
    assert response.status_code == 422 and "animal_id" in response.json["error"]["fields"]


# --- weights -----------------------------------------------------------------------------------------

def test_weights_are_recorded_and_listed_newest_first(client, bearer, animal, db):
    headers = bearer("keeper")
    url = f"/api/v1/animals/{animal.id}/weights"
    older = client.post(url, json={"grams": 1200, "bcs": 4, "measured_at": _iso(_now() - timedelta(hours=20))},
                        headers=headers)
    assert older.status_code == 201, older.json
    assert (older.json["grams"], older.json["late_entry"], older.json["client_id"]) == (1200.0, True, None)
    body = {"grams": 1187.46, "client_id": "scale-0001"}
    newer = client.post(url, json=body, headers=headers)
    assert newer.status_code == 201 and newer.json["grams"] == 1187.5
    assert client.post(url, json=body, headers=headers).json == newer.json
    assert _count(db, Weight) == 2
    listed = client.get(url, headers=bearer("viewer")).json
    assert [w["grams"] for w in listed["items"]] == [1187.5, 1200.0]
    assert listed["meta"]["total"] == 2


@pytest.mark.parametrize(("body", "field"), [
    ({}, "grams"),
    ({"grams": 0}, "grams"),
    ({"grams": -5}, "grams"),
    ({"grams": "heavy"}, "grams"),
    ({"grams": True}, "grams"),
    ({"grams": 500, "bcs": 10}, "bcs"),
    ({"grams": 500, "bcs": 4.5}, "bcs"),
    ({"grams": 500, "measured_at": "2099-01-01T00:00:00Z"}, "measured_at"),
    ({"grams": 500, "client_id": "short"}, "client_id"),
])
def test_bad_weights_are_422(client, bearer, animal, body, field, db):
    response = client.post(f"/api/v1/animals/{animal.id}/weights", json=body, headers=bearer("keeper"))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"], response.json
    assert _count(db, Weight) == 0


# --- who may do what ---------------------------------------------------------------------------------

def test_a_keeper_of_another_facility_gets_404(client, bearer, animal, facility, other_facility, db):
    task = _open_task(db, facility, kind="feed", animal=animal)
    headers = bearer("keeper", facilities=[other_facility])
    assert client.get(f"/api/v1/animals/{animal.id}/care-logs", headers=headers).status_code == 404
    assert client.post(f"/api/v1/animals/{animal.id}/care-logs", json={"kind": "feed", "client_id": "outside-0001"},
                       headers=headers).status_code == 404
    assert client.get(f"/api/v1/animals/{animal.id}/weights", headers=headers).status_code == 404
    assert client.post(f"/api/v1/animals/{animal.id}/weights", json={"grams": 10},
                       headers=headers).status_code == 404
    assert client.post(f"/api/v1/tasks/{task.id}/complete", json={"client_id": "outside-0002"},
                       headers=headers).status_code == 404
    assert client.get("/api/v1/tasks", headers=headers).json["meta"]["total"] == 0
    vet = bearer("vet", facilities=[other_facility])
    assert client.post("/api/v1/care-schedules", json={"animal_id": animal.id, "kind": "feed", "times": ["08:00"]},
                       headers=vet).status_code == 404
    assert _count(db, CareLog) == 0


def test_a_viewer_reads_but_records_nothing(client, bearer, animal, facility, db):
    task = _open_task(db, facility, kind="feed", animal=animal)
    headers = bearer("viewer")
    writes = [
        (f"/api/v1/animals/{animal.id}/care-logs", {"kind": "feed", "client_id": "viewer-0001"}),
        (f"/api/v1/animals/{animal.id}/weights", {"grams": 10}),
        (f"/api/v1/tasks/{task.id}/complete", {"client_id": "viewer-0002"}),
        ("/api/v1/care-schedules", {"animal_id": animal.id, "kind": "feed", "times": ["08:00"]}),
    ]
    for url, body in writes:
        assert client.post(url, json=body, headers=headers).status_code == 403, url
    for url in (f"/api/v1/animals/{animal.id}/care-logs", f"/api/v1/animals/{animal.id}/weights",
                "/api/v1/tasks", "/api/v1/care-schedules"):
        assert client.get(url, headers=headers).status_code == 200, url
    assert client.get("/api/v1/tasks").status_code == 401


def test_idempotency_key_on_a_schedule(client, bearer, enclosure, db):
    headers = {**bearer("vet"), "Idempotency-Key": "schedule-7f3a"}
    body = {"enclosure_id": enclosure.id, "kind": "clean", "times": ["09:00"]}
    first = client.post("/api/v1/care-schedules", json=body, headers=headers)
    again = client.post("/api/v1/care-schedules", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201) and first.json == again.json
    assert client.get("/api/v1/care-schedules", headers=headers).json["meta"]["total"] == 1


# --- query counts --------------------------------------------------------------------------------------

def test_task_list_query_count(client, bearer, facility, animal, db, count_queries):
    def add(n):
        _open_task(db, facility, kind="feed", animal=animal, due_at=_now() - timedelta(minutes=n))

    assert_same_count_for_1_and_20(client, bearer("keeper"), count_queries, "/api/v1/tasks?per_page=200", add)


def test_schedule_list_query_count(client, bearer, facility, db, count_queries):
    from app.care.services import create_schedule

    def add(n):
        place = factories.EnclosureFactory(facility=facility)
        create_schedule(enclosure=place, user=None, kind="clean", times=[f"{n:02d}:30"])

    assert_same_count_for_1_and_20(client, bearer("vet"), count_queries, "/api/v1/care-schedules?per_page=200", add)


def test_care_log_list_query_count(client, bearer, animal, db, count_queries):
    from app.care.records import log_care

    recorder = factories.UserFactory(role="keeper", facilities=[animal.case.facility])

    def add(n):
        log_care(user=recorder, client_id=f"count-log-{n:04d}", kind="observe", animal=animal,
                 done_at=_now() - timedelta(minutes=n))

    assert_same_count_for_1_and_20(client, bearer("keeper"), count_queries,
                             f"/api/v1/animals/{animal.id}/care-logs?per_page=200", add)


def test_weight_list_query_count(client, bearer, animal, db, count_queries):
    from app.care.records import record_weight

    def add(n):
        record_weight(animal, user=None, grams=1000 + n, measured_at=_now() - timedelta(minutes=n))

    assert_same_count_for_1_and_20(client, bearer("keeper"), count_queries,
                             f"/api/v1/animals/{animal.id}/weights?per_page=200", add)
