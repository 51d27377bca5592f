"""Care-planning pages: schedules and species templates, their tasks, roles, facilities, bad input, stale edits."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.care import services
from app.care.models import CareSchedule, CareTask, CareTemplate, TaskStatus
from tests import factories
from tests.care.conftest import NOW
from tests.reference import error_next_to

# NOW is 09:30 in Phnom Penh: 08:00 today is past, 16:00 today (09:00 UTC) is still to come.
TODAY_16 = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
TOMORROW_08 = datetime(2026, 6, 11, 1, 0, tzinfo=UTC)
TOMORROW_16 = datetime(2026, 6, 11, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """The pages and services read the clock at NOW (tasks and the default first day follow it)."""
    monkeypatch.setattr("app.care.services.utcnow", lambda: NOW)
    monkeypatch.setattr("app.care.pages_schedules.utcnow", lambda: NOW)
    return NOW


def _form(**changes) -> dict:
    data = {"kind": "feed", "times": "08:00, 16:00", "every_days": "", "instructions": "Scatter in the straw.",
            "diet-0-food": "Banana", "diet-0-grams": "200", "diet-0-preparation": "Peeled",
            "diet-1-food": "", "diet-1-grams": "", "diet-1-preparation": "",
            "diet-2-food": "", "diet-2-grams": "", "diet-2-preparation": "",
            "starts_on": "2026-06-10", "ends_on": ""}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _tasks(db, schedule_id):
    db.session.expire_all()
    rows = db.session.execute(select(CareTask).where(CareTask.schedule_id == schedule_id)
                              .order_by(CareTask.due_at)).scalars()
    return {task.due_at.replace(tzinfo=UTC): task.status for task in rows}


def _schedules(db, **where):
    db.session.expire_all()
    return db.session.execute(select(CareSchedule).filter_by(**where).order_by(CareSchedule.id)).scalars().all()


def _feed(animal=None, enclosure=None, times=("08:00", "16:00")):
    return services.create_schedule(animal=animal, enclosure=enclosure, user=None, now=NOW, kind="feed",
                                    times=list(times), starts_on=date(2026, 6, 1))


def test_vet_creates_a_schedule_and_its_tasks_are_made_at_once(client, login, db, clock, animal):
    login("vet")
    page = client.get(f"/care/schedules/new?animal_id={animal.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="2026-06-10"' in html, "the first day defaults to today in the facility's zone"
    assert html.count('data-testid="diet-row"') == 3

    response = client.post_form(f"/care/schedules/new?animal_id={animal.id}", _form())
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/animals/{animal.id}")
    (schedule,) = _schedules(db, animal_id=animal.id)
    assert (schedule.kind, schedule.times, schedule.every_days) == ("feed", ["08:00", "16:00"], None)
    assert schedule.diet_items == [{"food": "Banana", "grams": 200, "preparation": "Peeled"}]
    assert schedule.instructions == "Scatter in the straw."
    # Today's 08:00 had passed when the schedule was made: no overdue task for it.
    assert _tasks(db, schedule.id) == {TODAY_16: TaskStatus.OPEN, TOMORROW_08: TaskStatus.OPEN,
                                       TOMORROW_16: TaskStatus.OPEN}
    html = client.get("/care/schedules").get_data(as_text=True)
    assert animal.accession_number in html and "08:00, 16:00" in html and "Banana" in html


def test_enclosure_schedule_every_few_days_goes_back_to_the_enclosures_list(client, login, db, clock, enclosure):
    login("coordinator")
    response = client.post_form(f"/care/schedules/new?enclosure_id={enclosure.id}",
                                _form(kind="clean", times="", every_days="3", starts_on="2026-06-08",
                                      **{"diet-0-food": "", "diet-0-grams": ""}))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/care/schedules?enclosure_id={enclosure.id}")
    (schedule,) = _schedules(db, enclosure_id=enclosure.id)
    assert (schedule.kind, schedule.times, schedule.every_days, schedule.diet_items) == ("clean", [], 3, [])
    # Every third day from the 8th: the 11th, and with no time of day in the morning round.
    assert _tasks(db, schedule.id) == {TOMORROW_08: TaskStatus.OPEN}
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "every 3 days" in html and "M-1" in html and "is created" in html


def test_a_wrong_time_is_shown_next_to_the_field_and_what_was_typed_is_kept(client, login, db, clock, animal):
    login("vet")
    response = client.post_form(f"/care/schedules/new?animal_id={animal.id}",
                                _form(times="08:00, 25:00", **{"diet-1-grams": "40"}))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert error_next_to(html, "times", "Times of day are written HH:MM, for example 08:00 or 16:30.")
    assert 'value="08:00, 25:00"' in html
    assert 'value="Banana"' in html and 'value="Peeled"' in html and "Scatter in the straw." in html
    assert "Each diet item needs a food." in html
    assert _schedules(db) == []

    # Input the form itself cannot read is refused the same way, never a 500.
    response = client.post_form(f"/care/schedules/new?animal_id={animal.id}",
                                _form(every_days="often", ends_on="2026-06-01", **{"diet-0-grams": "lots"}))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'value="often"' in html and 'value="lots"' in html
    assert _schedules(db) == []
    response = client.post_form(f"/care/schedules/new?animal_id={animal.id}", _form(ends_on="2026-06-01"))
    assert error_next_to(response.get_data(as_text=True), "ends_on", "The last day cannot be before the first.")
    assert _schedules(db) == []


def test_changing_the_times_cancels_the_tasks_no_longer_wanted(client, login, db, clock, animal):
    schedule = _feed(animal)
    assert set(_tasks(db, schedule.id)) == {TODAY_16, TOMORROW_08, TOMORROW_16}
    login("vet")
    page = client.get(f"/care/schedules/{schedule.id}/edit").get_data(as_text=True)
    assert f'name="version" type="hidden" value="{schedule.version}"' in page
    assert 'value="08:00, 16:00"' in page

    response = client.post_form(f"/care/schedules/{schedule.id}/edit",
                                _form(times="08:00", starts_on="2026-06-01", version=str(schedule.version)))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/animals/{animal.id}")
    (schedule,) = _schedules(db, id=schedule.id)
    assert schedule.times == ["08:00"]
    assert _tasks(db, schedule.id) == {TODAY_16: TaskStatus.CANCELLED, TOMORROW_08: TaskStatus.OPEN,
                                       TOMORROW_16: TaskStatus.CANCELLED}


def test_a_stale_edit_is_refused_with_the_current_values(client, login, db, clock, animal):
    schedule = _feed(animal)
    old_version = schedule.version
    services.update_schedule(schedule, {"instructions": "Changed by the vet on duty."}, now=NOW)
    db.session.commit()
    login("vet")
    response = client.post_form(f"/care/schedules/{schedule.id}/edit",
                                _form(times="07:00", instructions="Mine", version=str(old_version)))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "changed by someone else" in html and "Changed by the vet on duty." in html
    assert 'value="07:00"' in html, "what was typed is kept"
    (schedule,) = _schedules(db, id=schedule.id)
    assert (schedule.times, schedule.instructions) == (["08:00", "16:00"], "Changed by the vet on duty.")
    # The form now carries the current version: saving again is deliberate and goes through.
    response = client.post_form(f"/care/schedules/{schedule.id}/edit",
                                _form(times="07:00", instructions="Mine", version=str(schedule.version)))
    assert response.status_code == 302
    assert _schedules(db, id=schedule.id)[0].times == ["07:00"]


def test_ending_a_schedule_cancels_its_open_tasks_from_now_on(client, login, db, clock, animal):
    schedule = _feed(animal)
    done = db.session.execute(select(CareTask).where(CareTask.schedule_id == schedule.id,
                                                     CareTask.due_at == TODAY_16)).scalar_one()
    done.status = TaskStatus.DONE  # done early: what was done stays done
    db.session.commit()
    login("vet")
    response = client.post_form(f"/care/schedules/{schedule.id}/end")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/animals/{animal.id}")
    (schedule,) = _schedules(db, id=schedule.id)
    assert schedule.is_active is False
    assert _tasks(db, schedule.id) == {TODAY_16: TaskStatus.DONE, TOMORROW_08: TaskStatus.CANCELLED,
                                       TOMORROW_16: TaskStatus.CANCELLED}
    # Ended schedules leave the default list and show under "Ended".
    assert 'data-testid="schedule-row"' not in client.get("/care/schedules").get_data(as_text=True)
    html = client.get("/care/schedules?active=0").get_data(as_text=True)
    assert html.count('data-testid="schedule-row"') == 1 and animal.accession_number in html


@pytest.mark.parametrize("role", ["keeper", "viewer"])
def test_keepers_and_viewers_may_not_plan_care(client, login, db, clock, animal, role):
    schedule = _feed(animal)
    template = services.save_template(None, {"taxon_class": "bird", "kind": "feed", "times": ["07:00"]})
    db.session.commit()
    login(role)
    assert client.get("/care/schedules").status_code == 403
    assert client.get(f"/care/schedules/new?animal_id={animal.id}").status_code == 403
    assert client.post_form(f"/care/schedules/new?animal_id={animal.id}", _form()).status_code == 403
    assert client.get(f"/care/schedules/{schedule.id}/edit").status_code == 403
    assert client.post_form(f"/care/schedules/{schedule.id}/edit",
                            _form(times="07:00", version=str(schedule.version))).status_code == 403
    assert client.post_form(f"/care/schedules/{schedule.id}/end").status_code == 403
    assert client.get("/care/templates").status_code == 403
    assert client.get("/care/templates/new").status_code == 403
    assert client.get(f"/care/templates/{template.id}/edit").status_code == 403
    nav = client.get("/animals").get_data(as_text=True)
    assert "/care/schedules" not in nav and "/care/templates" not in nav
    (schedule,) = _schedules(db)
    assert schedule.is_active and schedule.times == ["08:00", "16:00"]
    assert len(_schedules(db, animal_id=animal.id)) == 1


def test_vets_plan_schedules_but_not_templates(client, login, db):
    template = services.save_template(None, {"taxon_class": "bird", "kind": "feed", "times": ["07:00"]})
    db.session.commit()
    login("vet")
    assert client.get("/care/schedules").status_code == 200
    assert client.get("/care/templates").status_code == 403
    assert client.get(f"/care/templates/{template.id}/edit").status_code == 403
    assert client.post_form("/care/templates/new", _form(taxon_class="mammal")).status_code == 403
    nav = client.get("/animals").get_data(as_text=True)
    assert "/care/schedules" in nav and "/care/templates" not in nav
    assert db.session.scalar(select(func.count()).select_from(CareTemplate)) == 1


def test_a_vet_of_another_facility_gets_404(client, login, db, clock, facility, other_facility):
    theirs = factories.AnimalFactory(case=factories.CaseFactory(facility=other_facility), accession_number="2026-77777")
    their_enclosure = factories.EnclosureFactory(facility=other_facility, code="KK-9")
    schedule = _feed(theirs)
    db.session.commit()
    login("vet")  # of `facility`
    assert client.get(f"/care/schedules/{schedule.id}/edit").status_code == 404
    assert client.post_form(f"/care/schedules/{schedule.id}/edit",
                            _form(times="07:00", version=str(schedule.version))).status_code == 404
    assert client.post_form(f"/care/schedules/{schedule.id}/end").status_code == 404
    assert client.get(f"/care/schedules/new?animal_id={theirs.id}").status_code == 404
    assert client.post_form(f"/care/schedules/new?enclosure_id={their_enclosure.id}", _form()).status_code == 404
    html = client.get(f"/care/schedules?facility_id={other_facility.id}").get_data(as_text=True)
    assert "2026-77777" not in html and "KK-9" not in html
    (schedule,) = _schedules(db)
    assert schedule.is_active and schedule.times == ["08:00", "16:00"]


def test_the_list_costs_the_same_queries_for_1_and_20_schedules(client, login, db, clock, facility, count_queries):
    case = factories.CaseFactory(facility=facility)

    def add(n):
        for i in range(n):
            if i % 2:
                _feed(enclosure=factories.EnclosureFactory(facility=facility))
            else:
                _feed(factories.AnimalFactory(case=case))
        db.session.commit()

    login("admin")
    add(1)
    with count_queries() as one:
        html = client.get("/care/schedules").get_data(as_text=True)
    assert html.count('data-testid="schedule-row"') == 1
    add(19)
    with count_queries() as twenty:
        html = client.get("/care/schedules").get_data(as_text=True)
    assert html.count('data-testid="schedule-row"') == 20
    assert twenty.count == one.count, twenty


def test_the_list_filters_by_animal_and_enclosure_and_pages(client, login, db, clock, animal, enclosure):
    _feed(animal)
    _feed(enclosure=enclosure, times=("07:00",))
    db.session.commit()
    login("vet")
    html = client.get(f"/care/schedules?animal_id={animal.id}").get_data(as_text=True)
    assert html.count('data-testid="schedule-row"') == 1 and f"/care/schedules/new?animal_id={animal.id}" in html
    html = client.get(f"/care/schedules?enclosure_id={enclosure.id}").get_data(as_text=True)
    assert html.count('data-testid="schedule-row"') == 1 and "07:00" in html
    html = client.get("/care/schedules?per_page=1").get_data(as_text=True)
    assert html.count('data-testid="schedule-row"') == 1 and "Page 1 of 2" in html


def test_a_species_template_is_copied_onto_an_animal_at_intake(client, login, db, facility):
    from app.animals.services import admit_animals

    species = factories.SpeciesFactory(common_name_en="Pileated gibbon", taxon_class="mammal")
    login("coordinator")
    page = client.get("/care/templates/new").get_data(as_text=True)
    assert "Pileated gibbon" in page
    response = client.post_form("/care/templates/new", _form(species_id=str(species.id), taxon_class="",
                                                             times="07:00, 15:00", starts_on=None, ends_on=None))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/care/templates")
    db.session.expire_all()
    template = db.session.execute(select(CareTemplate)).scalar_one()
    assert (template.species_id, template.taxon_class, template.times) == (species.id, None, ["07:00", "15:00"])
    assert "Pileated gibbon" in client.get("/care/templates").get_data(as_text=True)

    (gibbon,) = admit_animals(factories.CaseFactory(facility=facility), [{"species_id": species.id, "quantity": 1}],
                              user=None)
    (schedule,) = _schedules(db, animal_id=gibbon.id)
    assert (schedule.template_id, schedule.kind, schedule.times) == (template.id, "feed", ["07:00", "15:00"])
    assert schedule.diet_items == [{"food": "Banana", "grams": 200, "preparation": "Peeled"}]
    assert _tasks(db, schedule.id), "the new animal's tasks are on the round at once"


def test_template_form_refusals_and_stale_edits(client, login, db, facility):
    species = factories.SpeciesFactory(taxon_class="bird")
    login("admin")
    response = client.post_form("/care/templates/new", _form(species_id=str(species.id), taxon_class="bird"))
    assert response.status_code == 200
    assert error_next_to(response.get_data(as_text=True), "taxon_class", "Choose a species or a taxon class, not both.")
    response = client.post_form("/care/templates/new", _form(species_id="", taxon_class=""))
    assert error_next_to(response.get_data(as_text=True), "species_id", "Choose a species or a taxon class.")
    response = client.post_form("/care/templates/new", _form(species_id="", taxon_class="bird", times="7h"))
    html = response.get_data(as_text=True)
    assert error_next_to(html, "times", "Times of day are written HH:MM, for example 08:00 or 16:30.")
    assert 'value="7h"' in html
    assert db.session.scalar(select(func.count()).select_from(CareTemplate)) == 0

    template = services.save_template(None, {"taxon_class": "bird", "kind": "feed", "times": ["07:00"]})
    db.session.commit()
    old_version = template.version
    page = client.get(f"/care/templates/{template.id}/edit").get_data(as_text=True)
    assert 'value="07:00"' in page and "all Bird species" in page
    response = client.post_form(f"/care/templates/{template.id}/edit",
                                _form(times="06:30", is_active="y", version=str(old_version)))
    assert response.status_code == 302
    response = client.post_form(f"/care/templates/{template.id}/edit",
                                _form(times="05:00", version=str(old_version)))
    assert response.status_code == 409
    assert "changed by someone else" in response.get_data(as_text=True)
    db.session.expire_all()
    template = db.session.get(CareTemplate, template.id)
    assert (template.times, template.is_active) == (["06:30"], True)



def test_an_expired_schedule_form_comes_back_with_what_was_typed(client, login, db, clock, animal):
    login("vet")
    response = client.post(f"/care/schedules/new?animal_id={animal.id}",
                           data={**_form(instructions="Hide the fruit in the hay."), "csrf_token": "expired"})
    html = response.get_data(as_text=True)
    assert 'data-testid="csrf-expired"' in html
    assert "Hide the fruit in the hay." in html and 'value="Banana"' in html
    assert _schedules(db) == []
