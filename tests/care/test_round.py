"""The keeper's round: what it shows, one-tap completion, retries, expired forms, query counts."""

import re
import time
from datetime import date, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select

from app.care.models import CareLog, CareSchedule, CareTask, Weight
from app.common.db import utcnow
from app.extensions import db
from tests import factories


def _task(kind="feed", *, animal=None, enclosure=None, due_in=timedelta(minutes=-10), diet=None):
    target = animal or enclosure
    schedule = CareSchedule(facility_id=target.facility_id, animal_id=animal.id if animal else None,
                            enclosure_id=enclosure.id if enclosure else None, kind=kind, times=["08:00"],
                            instructions="Scatter feed" if kind == "feed" else "", starts_on=date(2026, 1, 1),
                            diet_items=diet or [])
    db.session.add(schedule)
    db.session.flush()
    task = CareTask(schedule_id=schedule.id, facility_id=target.facility_id, kind=kind, due_at=utcnow() + due_in,
                    animal_id=schedule.animal_id, enclosure_id=schedule.enclosure_id)
    db.session.add(task)
    db.session.flush()
    return task


def _tap(client, task, **data):
    data.setdefault("client_id", f"tap-{task.id}-{time.time_ns()}")
    return client.post_form(f"/round/tasks/{task.id}", data, headers={"HX-Request": "true"})


def test_a_keepers_home_is_the_round(client, login):
    login("keeper")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/round")


def test_the_round_lists_enclosures_by_section_with_their_counts(client, login, animal, enclosure, facility):
    _task(animal=animal)
    _task("clean", enclosure=enclosure, due_in=timedelta(hours=-6))
    _task(animal=animal, due_in=timedelta(hours=2))
    aviary = factories.EnclosureFactory(facility=facility, code="AV-1", section="Birds")
    _task("clean", enclosure=aviary)
    other = factories.FacilityFactory()
    _task(animal=factories.AnimalFactory(case=factories.CaseFactory(facility=other)))
    db.session.commit()
    login("keeper")
    html = client.get("/round").get_data(as_text=True)
    assert html.count('data-testid="round-enclosure"') == 2, "another facility's enclosure is not listed"
    assert html.index("Birds") < html.index("Primates")
    assert "1 overdue" in html and "1 due" in html and "1 later" in html
    assert "3 to do · 0 done" in html
    assert f"/round/enclosures/{enclosure.id}" in html


def test_an_enclosures_cards_show_diet_instructions_and_residents(client, login, animal, enclosure):
    _task(animal=animal, diet=[{"food": "Banana", "grams": 150, "preparation": "halved"}])
    _task("clean", enclosure=enclosure, due_in=timedelta(hours=-6))
    db.session.commit()
    login("keeper")
    html = client.get(f"/round/enclosures/{enclosure.id}").get_data(as_text=True)
    assert html.count('data-testid="task"') == 2
    assert "Banana" in html and "150 g" in html and "halved" in html and "Scatter feed" in html
    assert 'data-state="overdue"' in html and 'data-state="due"' in html
    assert animal.accession_number in html


def test_tasks_of_animals_without_an_enclosure_have_their_own_page(client, login, facility):
    stray = factories.AnimalFactory(case=factories.CaseFactory(facility=facility), enclosure_id=None)
    _task(animal=stray)
    db.session.commit()
    login("keeper")
    assert "/round/unhoused" in client.get("/round").get_data(as_text=True)
    assert stray.accession_number in client.get("/round/unhoused").get_data(as_text=True)


def test_one_tap_completes_a_feeding_with_the_amount_eaten(client, login, animal):
    task = _task(animal=animal)
    db.session.commit()
    keeper = login("keeper")
    response = _tap(client, task, eaten="most")
    assert response.status_code == 200
    assert 'data-state="done"' in response.get_data(as_text=True)
    log = db.session.execute(select(CareLog).where(CareLog.task_id == task.id)).scalar_one()
    assert (log.eaten, log.recorded_by_id, log.animal_id, log.late_entry) == ("most", keeper.id, animal.id, False)
    db.session.refresh(task)
    assert task.status == "done" and task.done_by_id == keeper.id


def test_a_resent_tap_is_stored_once_and_another_keepers_tap_is_told(client, login, animal):
    task = _task(animal=animal)
    db.session.commit()
    login("keeper")
    first = _tap(client, task, eaten="all", client_id="retry-0001")
    again = _tap(client, task, eaten="all", client_id="retry-0001")
    assert first.status_code == again.status_code == 200
    other = _tap(client, task, eaten="none", client_id="another-0002")
    assert "already done" in other.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CareLog)) == 1


def test_a_weighing_task_records_the_weight(client, login, animal):
    task = _task("weigh", animal=animal)
    db.session.commit()
    login("keeper")
    missing = _tap(client, task, notes="wriggly")
    assert missing.status_code == 422
    html = missing.get_data(as_text=True)
    assert "Give the weight in grams" in html and "wriggly" in html, "the note typed is kept"
    done = _tap(client, task, grams="2450.5", bcs="5")
    assert done.status_code == 200 and "2450.5 g" in done.get_data(as_text=True)
    weight = db.session.execute(select(Weight).where(Weight.animal_id == animal.id)).scalar_one()
    assert (float(weight.grams), weight.bcs) == (2450.5, 5)


def test_all_done_in_an_enclosure_completes_what_is_due_there(client, login, animal, lot, enclosure):
    feed, clean = _task(animal=animal), _task("clean", enclosure=enclosure)
    weigh, later = _task("weigh", animal=lot), _task(animal=lot, due_in=timedelta(hours=3))
    db.session.commit()
    login("keeper")
    response = client.post_form(f"/round/enclosures/{enclosure.id}/done", {"client_id": "enclosure-tap-1"})
    assert response.status_code == 302
    client.post_form(f"/round/enclosures/{enclosure.id}/done", {"client_id": "enclosure-tap-1"})
    statuses = {t.id: db.session.get(CareTask, t.id) for t in (feed, clean, weigh, later)}
    for task in statuses.values():
        db.session.refresh(task)
    assert [statuses[t.id].status for t in (feed, clean, weigh, later)] == ["done", "done", "open", "open"]
    assert db.session.scalar(select(func.count()).select_from(CareLog)) == 2


def test_an_expired_form_comes_back_with_what_was_typed(app, client, login, animal, monkeypatch):
    task = _task("weigh", animal=animal)
    db.session.commit()
    login("keeper")
    client.csrf_token("/round")
    with client.session_transaction() as session:
        raw = session["csrf_token"]
    # The token this session's page would have carried 13 hours ago (the limit is 12).
    with monkeypatch.context() as patched:
        patched.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 13 * 3600)
        stale = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)
    response = client.post(f"/round/tasks/{task.id}", headers={"HX-Request": "true"},
                           data={"csrf_token": stale, "client_id": "expired-form-1", "grams": "812", "notes": "calm"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-testid="csrf-expired"' in html and 'value="812"' in html and "calm" in html
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert fresh != stale
    assert db.session.scalar(select(func.count()).select_from(CareLog)) == 0
    again = client.post(f"/round/tasks/{task.id}", headers={"HX-Request": "true"},
                        data={"csrf_token": fresh, "client_id": "expired-form-1", "grams": "812", "notes": "calm"})
    assert again.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Weight)) == 1


def test_without_a_token_nothing_is_stored(client, login, animal):
    task = _task(animal=animal)
    db.session.commit()
    login("keeper")
    response = client.post(f"/round/tasks/{task.id}", data={"client_id": "no-token-1", "eaten": "all"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(CareLog)) == 0


@pytest.mark.parametrize("role", ["viewer"])
def test_viewers_see_the_round_but_cannot_tap(client, login, animal, role):
    task = _task(animal=animal)
    db.session.commit()
    login(role)
    assert "btn-eaten-all" not in client.get(f"/round/enclosures/{animal.enclosure_id}").get_data(as_text=True)
    assert _tap(client, task, eaten="all").status_code == 403


def test_a_keeper_of_another_facility_cannot_complete_the_task(client, login, animal, make_user, other_facility):
    task = _task(animal=animal)
    db.session.commit()
    login(make_user("keeper", facilities=[other_facility]))
    assert _tap(client, task, eaten="all").status_code == 404


def test_the_round_query_count_is_the_same_for_5_and_100_tasks(client, login, facility, count_queries):
    pens = [factories.EnclosureFactory(facility=facility, section=f"Section {i % 3}") for i in range(20)]

    def add_tasks(n):
        for i in range(n):
            pen = pens[i % len(pens)] if n > 5 else pens[0]
            resident = factories.AnimalFactory(case=factories.CaseFactory(facility=facility), enclosure_id=pen.id)
            _task("clean" if i % 4 == 0 else "feed", animal=resident, diet=[{"food": "Fruit", "grams": 100}])
        db.session.commit()

    add_tasks(5)
    login("keeper")
    pages = {"overview": "/round", "enclosure": f"/round/enclosures/{pens[0].id}"}
    client.get(pages["overview"])
    counts = {}
    for name, url in pages.items():
        with count_queries() as counted:
            html = client.get(url).get_data(as_text=True)
        counts[name] = counted.count
    assert html.count('data-testid="task"') == 5
    add_tasks(95)
    for name, url in pages.items():
        with count_queries() as counted:
            html = client.get(url).get_data(as_text=True)
        assert counted.count == counts[name], (name, counts[name], counted)
    assert html.count('data-testid="task"') == 5 + 95 // 20 + 1
    assert "100 to do" in client.get(pages["overview"]).get_data(as_text=True)


def test_an_animal_that_left_care_is_not_in_the_round(client, login, animal):
    _task(animal=animal)
    animal.status, animal.quantity = "died", 0
    db.session.commit()
    login("keeper")
    assert 'data-testid="round-empty"' in client.get("/round").get_data(as_text=True)
    html = client.get(f"/round/enclosures/{animal.enclosure_id}").get_data(as_text=True)
    assert 'data-testid="task"' not in html
