"""Doses on the keeper's round: the dose card, its four results, who may give it, the record and the schedules.

The pages read the real clock (app.common.db.utcnow), so prescriptions are written at
utcnow(). A course's first dose is the next dosing time not yet past (today or
tomorrow, by the hour); the tests take that first dose and bring it due ten minutes
ago, as if the keeper had reached it on the round, so its card is on today's round
at any hour.
"""

import re
import time
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.animals.models import Animal
from app.care.models import CareLog, CareSchedule, CareTask, TaskStatus, Weight
from app.common.db import utcnow
from app.extensions import db
from app.vet.prescriptions import prescribe
from tests import factories

DOSE_TEXT = "Meloxicam 1.2 mg = 0.8 ml PO · BID"


def _dose(animal, vet, *, keeper_may_give=True) -> CareTask:
    """A 5-day BID Meloxicam course for a 6 kg animal; its first dose, brought due ten minutes ago."""
    now = utcnow()
    db.session.add(Weight(animal_id=animal.id, measured_at=now - timedelta(hours=1), grams=Decimal("6000")))
    db.session.flush()
    prescription, _warnings = prescribe(animal, user=vet, now=now, drug="Meloxicam", dose_mg_per_kg=Decimal("0.2"),
                                        concentration_mg_per_ml=Decimal("1.5"), route="PO", frequency="BID", days=5,
                                        keeper_may_give=keeper_may_give)
    task = db.session.execute(
        select(CareTask).where(CareTask.schedule_id == prescription.schedule_id, CareTask.kind == "medicate",
                               CareTask.status == TaskStatus.OPEN).order_by(CareTask.due_at).limit(1)
    ).scalar_one()
    return _bring_due(task)


def _bring_due(task: CareTask, minutes_ago: int = 10) -> CareTask:
    now = utcnow()
    task.due_at, task.overdue_at = now - timedelta(minutes=minutes_ago), now + timedelta(hours=1)
    db.session.flush()
    return task


def _next_dose(task: CareTask) -> CareTask:
    return db.session.execute(
        select(CareTask).where(CareTask.schedule_id == task.schedule_id, CareTask.id != task.id,
                               CareTask.status == TaskStatus.OPEN).order_by(CareTask.due_at).limit(1)
    ).scalar_one()


def _card(html: str, task: CareTask) -> str:
    match = re.search(rf'<article class="task-card[^"]*" id="task-{task.id}".*?</article>', html, re.DOTALL)
    assert match, f"no card for task {task.id}"
    return match.group(0)


def _enclosure_page(client, task: CareTask) -> str:
    enclosure_id = db.session.get(Animal, task.animal_id).enclosure_id
    response = client.get(f"/round/enclosures/{enclosure_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _tap(client, task, **data):
    data.setdefault("client_id", f"dose-{task.id}-{time.time_ns()}")
    return client.post_form(f"/round/tasks/{task.id}", data, headers={"HX-Request": "true"})


def _logs() -> int:
    return db.session.scalar(select(func.count()).select_from(CareLog))


def _status(task) -> str:
    db.session.expire_all()
    return db.session.get(CareTask, task.id).status


def _log_of(task) -> CareLog:
    return db.session.execute(select(CareLog).where(CareLog.task_id == task.id)).scalar_one()


def test_a_dose_card_shows_the_dose_and_four_buttons_to_a_keeper(client, login, make_user, animal):
    task = _dose(animal, make_user("vet"))
    db.session.commit()
    login("keeper")
    card = _card(_enclosure_page(client, task), task)
    assert 'data-task-kind="medicate"' in card and 'data-testid="medication-label"' in card and "Medication" in card
    assert DOSE_TEXT in card and 'data-testid="dose-text"' in card
    assert re.findall(r'name="given" value="(\w+)"', card) == ["given", "refused", "vomited", "missed"]
    assert 'name="notes"' in card, "the optional note"
    assert "btn-dose-given" in card and 'data-testid="dose-not-yours"' not in card


def test_a_keeper_taps_given_and_the_dose_is_done(client, login, make_user, animal):
    task = _dose(animal, make_user("vet"))
    db.session.commit()
    keeper = login("keeper", name="Sokha")
    response = _tap(client, task, given="given", notes="in a grape")
    assert response.status_code == 200
    card = response.get_data(as_text=True)
    assert 'data-state="done"' in card and 'data-dose-result="given"' in card
    assert re.search(r"Given \d\d:\d\d by Sokha", card) and "in a grape" in card
    assert 'name="given"' not in card, "a done dose has no buttons"
    log = _log_of(task)
    assert (log.given, log.kind, log.recorded_by_id, log.animal_id) == ("given", "medicate", keeper.id, animal.id)
    assert _status(task) == "done"


def test_a_refused_dose_is_recorded_and_stands_out(client, login, make_user, animal):
    task = _dose(animal, make_user("vet"))
    db.session.commit()
    login("keeper", name="Sokha")
    response = _tap(client, task, given="refused")
    assert response.status_code == 200
    card = response.get_data(as_text=True)
    assert 'data-dose-result="refused"' in card and "dose-refused" in card
    assert re.search(r"Refused \d\d:\d\d · recorded by Sokha", card)
    assert _log_of(task).given == "refused" and _status(task) == "done"


def test_a_dose_tapped_without_its_result_asks_for_it(client, login, make_user, animal):
    task = _dose(animal, make_user("vet"))
    db.session.commit()
    login("keeper")
    response = _tap(client, task, notes="spat half")
    assert response.status_code == 422
    card = response.get_data(as_text=True)
    assert 'data-testid="given-error"' in card and "given, refused, vomited or missed" in card
    assert "spat half" in card, "the note typed is kept"
    assert _logs() == 0 and _status(task) == "open"


def test_a_dose_only_a_vet_may_give(client, login, make_user, animal):
    vet = make_user("vet", name="Dr Chan")
    task = _dose(animal, vet, keeper_may_give=False)
    db.session.commit()
    login("keeper")
    card = _card(_enclosure_page(client, task), task)
    assert "A vet gives this dose" in card and 'name="given"' not in card
    assert DOSE_TEXT in card, "the keeper still sees what is given"
    refused = _tap(client, task, given="given")
    assert refused.status_code == 403 and refused.headers.get("X-Task-Card") == "1"
    html = refused.get_data(as_text=True)
    assert "you may not record this dose" in html and "A vet gives this dose" in html and 'name="given"' not in html
    assert _logs() == 0 and _status(task) == "open"

    client.post_form("/logout")
    login(vet)
    card = _card(_enclosure_page(client, task), task)
    assert 'name="given" value="given"' in card and "A vet gives this dose" not in card
    done = _tap(client, task, given="given")
    assert done.status_code == 200 and re.search(r"Given \d\d:\d\d by Dr Chan", done.get_data(as_text=True))
    assert _log_of(task).recorded_by_id == vet.id and _status(task) == "done"


def test_a_dose_not_yet_due_shows_when_it_can_be_recorded(app, client, login, make_user, animal):
    first = _dose(animal, make_user("vet"))
    later = _next_dose(first)
    later.due_at = utcnow() + timedelta(minutes=app.config["DOSE_EARLY_MINUTES"] + 60)
    later.overdue_at = later.due_at + timedelta(hours=1)
    db.session.commit()
    login("keeper")
    response = _tap(client, later, given="given")
    assert response.status_code == 422 and _logs() == 0, "the service refuses a dose hours early"
    card = response.get_data(as_text=True)
    assert 'data-testid="dose-not-yet"' in card and 'name="given"' not in card and DOSE_TEXT in card


def test_a_coordinator_records_no_dose(client, login, make_user, animal):
    task = _dose(animal, make_user("vet"))
    db.session.commit()
    login("coordinator")
    card = _card(_enclosure_page(client, task), task)
    assert 'name="given"' not in card and 'data-testid="dose-not-yours"' in card
    response = _tap(client, task, given="given")
    assert response.status_code == 403
    assert _logs() == 0 and _status(task) == "open"


def test_all_done_here_leaves_the_dose_open(client, login, make_user, animal, enclosure):
    dose = _dose(animal, make_user("vet"))
    schedule = CareSchedule(facility_id=enclosure.facility_id, enclosure_id=enclosure.id, kind="clean",
                            times=["08:00"], starts_on=date(2026, 1, 1), diet_items=[])
    db.session.add(schedule)
    db.session.flush()
    clean = CareTask(schedule_id=schedule.id, facility_id=enclosure.facility_id, enclosure_id=enclosure.id,
                     kind="clean", due_at=utcnow() - timedelta(minutes=10))
    db.session.add(clean)
    db.session.commit()
    login("keeper")
    response = client.post_form(f"/round/enclosures/{enclosure.id}/done", {"client_id": "enclosure-dose-1"},
                                follow_redirects=True)
    assert "1 tasks marked done" in response.get_data(as_text=True)
    assert _status(clean) == "done" and _status(dose) == "open"
    assert db.session.execute(select(CareLog.task_id)).scalars().all() == [clean.id]


def test_the_enclosure_page_costs_the_same_queries_for_1_and_10_doses(client, login, make_user, facility, enclosure,
                                                                         count_queries):
    vet = make_user("vet")

    def add_doses(n):
        for i in range(n):
            resident = factories.AnimalFactory(case=factories.CaseFactory(facility=facility),
                                               enclosure_id=enclosure.id)
            _dose(resident, vet, keeper_may_give=bool(i % 2))
        db.session.commit()

    add_doses(1)
    login("keeper")
    url = f"/round/enclosures/{enclosure.id}"
    client.get(url)
    with count_queries() as one:
        html = client.get(url).get_data(as_text=True)
    first = html.count('data-task-kind="medicate"')
    assert first >= 1 and DOSE_TEXT in html
    add_doses(9)
    with count_queries() as ten:
        html = client.get(url).get_data(as_text=True)
    assert html.count('data-task-kind="medicate"') >= first + 9
    assert "A vet gives this dose" in html and 'name="given" value="given"' in html
    assert ten.count == one.count, (one.count, ten)


def test_the_record_says_what_became_of_each_dose(client, login, make_user, animal):
    vet = make_user("vet")
    given = _dose(animal, vet)
    second = _bring_due(_next_dose(given), minutes_ago=5)
    db.session.commit()
    login("keeper")
    assert _tap(client, given, given="given").status_code == 200
    assert _tap(client, second, given="refused").status_code == 200
    html = client.get(f"/animals/{animal.id}").get_data(as_text=True)
    assert f"Dose given: {DOSE_TEXT}" in html, "the timeline"
    assert "Dose refused" in html
    recent = re.search(r'data-testid="recent-care">(.*?)</ul>', html, re.DOTALL).group(1)
    assert "Dose given" in recent and "Dose refused" in recent and DOSE_TEXT in recent


def test_a_prescriptions_course_is_not_edited_or_ended_on_the_schedules_pages(client, login, make_user, animal):
    vet = make_user("vet")
    task = _dose(animal, vet)
    schedule = db.session.get(CareSchedule, task.schedule_id)
    before = (schedule.kind, list(schedule.times), schedule.instructions, schedule.ends_on, schedule.version)
    db.session.commit()
    login(vet)
    listing = client.get(f"/care/schedules?animal_id={animal.id}").get_data(as_text=True)
    row = re.search(r'<tr data-testid="schedule-row".*?</tr>', listing, re.DOTALL).group(0)
    assert "Prescription" in row and f"/care/schedules/{schedule.id}/edit" not in row
    assert f"/care/schedules/{schedule.id}/end" not in row
    message = "the vet changes or stops it on the animal&#39;s record"
    page = client.get(f"/care/schedules/{schedule.id}/edit", follow_redirects=True)
    assert message in page.get_data(as_text=True)
    edited = client.post_form(f"/care/schedules/{schedule.id}/edit",
                              {"kind": "feed", "times": "09:00", "instructions": "changed", "starts_on": "2026-06-10",
                               "version": str(schedule.version)}, follow_redirects=True)
    assert message in edited.get_data(as_text=True)
    ended = client.post_form(f"/care/schedules/{schedule.id}/end", follow_redirects=True)
    assert message in ended.get_data(as_text=True)
    db.session.expire_all()
    schedule = db.session.get(CareSchedule, task.schedule_id)
    assert (schedule.kind, schedule.times, schedule.instructions, schedule.ends_on, schedule.version) == before
    assert schedule.is_active


def test_the_schedule_and_template_forms_offer_no_medication(client, login, animal):
    login("admin")
    for url in (f"/care/schedules/new?animal_id={animal.id}", "/care/templates/new"):
        html = client.get(url).get_data(as_text=True)
        assert 'value="feed"' in html and 'value="medicate"' not in html, url
    refused = client.post_form(f"/care/schedules/new?animal_id={animal.id}",
                               {"kind": "medicate", "times": "08:00", "starts_on": "2026-06-10"})
    assert "prescription" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CareSchedule)) == 0
