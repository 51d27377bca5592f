"""The alert pages: the inbox and its filters, acknowledging and resolving, the navigation's badge, the
animal record's panel, who sees what, and the inbox's query count for 1 and 20 alerts."""

import re
from datetime import timedelta

import pytest

from app.alerts.models import Alert, AlertStatus
from app.alerts.services import AlertError
from app.care.models import CareTask
from tests import factories
from tests.alerts.conftest import NOW


@pytest.fixture
def enclosure(db, facility):
    return factories.EnclosureFactory(facility=facility, code="M-1", name="Macaque yard")


@pytest.fixture
def animal(db, facility, enclosure):
    return factories.AnimalFactory(case=factories.CaseFactory(facility=facility), name="Srey",
                                   enclosure_id=enclosure.id)


@pytest.fixture
def task(db, animal):
    task = CareTask(facility_id=animal.facility_id, animal_id=animal.id, kind="feed", due_at=NOW - timedelta(hours=2))
    db.session.add(task)
    db.session.flush()
    return task


@pytest.fixture
def outsider(db, other_facility):
    return factories.AnimalFactory(case=factories.CaseFactory(facility=other_facility), name="Far")


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-testid="alert-row" data-alert-id="(\d+)"', html)]


def _fresh(db, alert_id: int) -> Alert:
    db.session.expire_all()
    return db.session.get(Alert, alert_id)


def _switch(client, login, role, **kwargs):
    """Sign out, then in as a new user of `role` (the sign-in page sends a signed-in user home)."""
    client.post_form("/logout")
    return login(role, **kwargs)


def _badge(html: str) -> int | None:
    match = re.search(r'data-testid="nav-alert-count">(\d+)<', html)
    return int(match.group(1)) if match else None


# --- who sees what ------------------------------------------------------------------------------

def test_a_keeper_sees_care_overdue_but_not_release_ready(client, login, make_alert, animal, task):
    care = make_alert("care_overdue", task=task, reference_at=task.due_at)
    ready = make_alert("release_ready", animal=animal)
    login("keeper")
    html = _text(client.get("/alerts"))
    assert _row_ids(html) == [care.id]
    assert "Care overdue" in html and "has not been recorded" in html
    # The kind filter offers the keeper's kinds only.
    assert 'value="care_overdue"' in html and 'value="release_ready"' not in html
    assert client.get("/alerts?kind=release_ready").status_code == 200  # ignored, not an error
    assert _row_ids(_text(client.get("/alerts?kind=release_ready"))) == [care.id]
    assert client.post_form(f"/alerts/{ready.id}/resolve").status_code == 404


def test_a_coordinator_sees_release_ready(client, login, make_alert, animal):
    ready = make_alert("release_ready", animal=animal)
    login("coordinator")
    html = _text(client.get("/alerts"))
    assert _row_ids(html) == [ready.id]
    assert "Ready for release" in html and "is not in a release plan yet" in html


def test_viewers_are_refused_and_have_no_link(client, login, make_alert, animal):
    alert = make_alert(animal=animal)
    login("viewer")
    assert client.get("/alerts").status_code == 403
    assert client.post_form(f"/alerts/{alert.id}/acknowledge").status_code == 403
    assert client.post_form(f"/alerts/{alert.id}/resolve").status_code == 403
    html = _text(client.get("/"))
    assert 'data-testid="nav-alerts"' not in html
    assert 'data-testid="record-alerts"' not in _text(client.get(f"/animals/{animal.id}"))


def test_anonymous_is_sent_to_sign_in(client, db, make_alert, animal):
    alert = make_alert(animal=animal)
    response = client.get("/alerts")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post_form(f"/alerts/{alert.id}/resolve").status_code == 302
    assert _fresh(db, alert.id).status == AlertStatus.OPEN


def test_another_facilitys_alert_is_not_listed_and_is_404(client, login, db, make_alert, animal, outsider):
    mine = make_alert(animal=animal)
    far = make_alert(animal=outsider)
    login("keeper")
    assert _row_ids(_text(client.get("/alerts?status=all"))) == [mine.id]
    assert client.post_form(f"/alerts/{far.id}/acknowledge").status_code == 404
    assert client.post_form(f"/alerts/{far.id}/resolve").status_code == 404
    assert _fresh(db, far.id).status == AlertStatus.OPEN
    assert client.post_form("/alerts/999999999/resolve").status_code == 404


# --- acknowledge and resolve ------------------------------------------------------------------

def test_acknowledge_then_resolve(client, login, db, make_alert, animal):
    alert = make_alert(animal=animal)
    keeper = login("keeper", name="Dara")
    back = "/alerts?kind=weight_missing"

    response = client.post_form(f"/alerts/{alert.id}/acknowledge", {"next": back})
    assert response.status_code == 302 and response.headers["Location"] == back
    seen = _fresh(db, alert.id)
    assert seen.status == AlertStatus.ACKNOWLEDGED and seen.acknowledged_by_id == keeper.id
    assert seen.acknowledged_at is not None and seen.resolved_at is None
    html = _text(client.get(back))
    assert "Alert acknowledged." in html  # the flash
    assert _row_ids(html) == [alert.id] and "Acknowledged by Dara" in html
    assert 'data-testid="acknowledge"' not in html and 'data-testid="resolve"' in html

    html = _text(client.post_form(f"/alerts/{alert.id}/resolve", {"next": back}, follow_redirects=True))
    assert "Alert resolved." in html
    assert _row_ids(html) == []  # the unresolved list no longer shows it
    done = _fresh(db, alert.id)
    assert done.status == AlertStatus.RESOLVED and done.resolved_by_id == keeper.id and done.resolved_at is not None
    assert done.acknowledged_by_id == keeper.id  # the acknowledgement is kept
    html = _text(client.get("/alerts?status=resolved"))
    assert _row_ids(html) == [alert.id] and "Resolved by Dara" in html
    assert 'data-testid="resolve"' not in html


def test_an_open_alert_may_be_resolved_at_once(client, login, db, make_alert, animal):
    alert = make_alert(animal=animal)
    vet = login("vet")
    response = client.post_form(f"/alerts/{alert.id}/resolve")
    assert response.status_code == 302 and response.headers["Location"] == "/alerts"
    done = _fresh(db, alert.id)
    assert done.status == AlertStatus.RESOLVED and done.resolved_by_id == vet.id and done.acknowledged_at is None


def test_resolving_a_resolved_alert_says_so(client, login, db, make_alert, animal):
    alert = make_alert(animal=animal)
    keeper = login("keeper", name="Dara")
    client.post_form(f"/alerts/{alert.id}/resolve")
    _switch(client, login, "vet", name="Sophea")
    for action in ("resolve", "acknowledge"):
        response = client.post_form(f"/alerts/{alert.id}/{action}")
        assert response.status_code == 302
        html = _text(client.get(response.headers["Location"]))
        assert "This alert was already resolved by Dara" in html
    assert _fresh(db, alert.id).resolved_by_id == keeper.id


def test_an_alert_the_job_cleared_says_so(client, login, db, make_alert, animal):
    alert = make_alert(animal=animal, status=AlertStatus.RESOLVED)
    alert.resolved_at = NOW
    db.session.flush()
    login("keeper")
    html = _text(client.post_form(f"/alerts/{alert.id}/resolve", follow_redirects=True))
    assert "This alert was already resolved on" in html and "has cleared" in html


def test_a_refusal_between_the_read_and_the_write_is_a_message(client, login, db, make_alert, animal, monkeypatch):
    """Resolved by someone else between the page's read and the service: the service's message, no 500."""
    alert = make_alert(animal=animal)

    def resolved_meanwhile(*_args, **_kwargs):
        raise AlertError({"status": ["This alert is already resolved."]})

    monkeypatch.setattr("app.alerts.pages_inbox.resolve_alert", resolved_meanwhile)
    login("keeper")
    html = _text(client.post_form(f"/alerts/{alert.id}/resolve", follow_redirects=True))
    assert "This alert is already resolved." in html
    assert _fresh(db, alert.id).status == AlertStatus.OPEN


def test_acknowledging_twice_changes_nothing(client, login, db, make_alert, animal):
    alert = make_alert(animal=animal)
    first = login("keeper", name="Dara")
    client.post_form(f"/alerts/{alert.id}/acknowledge")
    when = _fresh(db, alert.id).acknowledged_at
    _switch(client, login, "vet")
    html = _text(client.post_form(f"/alerts/{alert.id}/acknowledge", follow_redirects=True))
    assert "already acknowledged by Dara" in html
    again = _fresh(db, alert.id)
    assert again.acknowledged_by_id == first.id and again.acknowledged_at == when


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/\t/evil.example",
                                    "evil.example", "javascript:alert(1)", ""])
def test_the_buttons_come_back_only_within_the_site(client, login, make_alert, animal, target):
    alert = make_alert(animal=animal)
    login("keeper")
    response = client.post_form(f"/alerts/{alert.id}/acknowledge", {"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/alerts"


def test_a_post_without_its_csrf_token_is_refused(client, login, db, make_alert, animal):
    alert = make_alert(animal=animal)
    login("keeper")
    assert client.post(f"/alerts/{alert.id}/resolve").status_code == 400
    assert _fresh(db, alert.id).status == AlertStatus.OPEN


# --- filters ----------------------------------------------------------------------------------

def test_filters_by_status_kind_and_facility(client, login, make_alert, animal, outsider, task, facility,
                                            other_facility):
    new = make_alert(animal=animal)
    seen = make_alert("weight_loss", animal=animal, status=AlertStatus.ACKNOWLEDGED, reference_value=12.5,
                      reference_at=NOW)
    done = make_alert("care_overdue", task=task, status=AlertStatus.RESOLVED, reference_at=task.due_at)
    far = make_alert("quarantine_overdue", animal=outsider)
    login("coordinator")  # every facility

    def ids(query=""):
        return set(_row_ids(_text(client.get(f"/alerts{query}"))))

    assert ids() == {new.id, seen.id, far.id}
    assert ids("?status=unresolved") == {new.id, seen.id, far.id}
    assert ids("?status=open") == {new.id, far.id}
    assert ids("?status=acknowledged") == {seen.id}
    assert ids("?status=resolved") == {done.id}
    assert ids("?status=all") == {new.id, seen.id, done.id, far.id}
    assert ids("?status=nonsense") == {new.id, seen.id, far.id}
    assert ids("?status=all&kind=care_overdue") == {done.id}
    assert ids(f"?facility_id={facility.id}") == {new.id, seen.id}
    assert ids(f"?facility_id={other_facility.id}") == {far.id}
    assert ids("?facility_id=999999") == {new.id, seen.id, far.id}
    html = _text(client.get(f"/alerts?status=all&facility_id={facility.id}&kind=weight_loss"))
    assert _row_ids(html) == [seen.id]
    assert f'<option value="{facility.id}" selected>' in html and '<option value="weight_loss" selected>' in html


def test_a_keepers_facility_filter_is_their_own(client, login, make_alert, animal, outsider, other_facility):
    mine = make_alert(animal=animal)
    make_alert(animal=outsider)
    login("keeper")
    html = _text(client.get(f"/alerts?facility_id={other_facility.id}"))
    assert _row_ids(html) == [mine.id]
    assert 'id="alert-facility"' not in html  # one facility: no facility filter


def test_the_list_shows_worst_first_and_is_paginated(client, login, make_alert, animal):
    info = make_alert(animal=animal, severity="info", raised_at=NOW)
    critical = make_alert("weight_loss", animal=animal, severity="critical", reference_value=25,
                          reference_at=NOW, raised_at=NOW - timedelta(days=1))
    warning = make_alert("quarantine_ending", animal=animal, severity="warning")
    login("vet")
    assert _row_ids(_text(client.get("/alerts"))) == [critical.id, warning.id, info.id]
    html = _text(client.get("/alerts?per_page=2&page=2"))
    assert _row_ids(html) == [info.id] and "Page 2 of 2" in html


def test_a_row_links_its_subject(client, login, make_alert, animal, task, enclosure, facility):
    case = factories.CaseFactory(facility=facility, reference="C-2026-0042")
    on_animal = make_alert(animal=animal)
    on_task = make_alert("care_overdue", task=task, reference_at=task.due_at)
    on_case = make_alert("hold_review", case=case, reference_at=NOW)
    login("coordinator")
    html = _text(client.get("/alerts"))
    for alert in (on_animal, on_task, on_case):
        assert f'data-alert-id="{alert.id}"' in html
    assert f'href="/animals/{animal.id}"' in html
    assert f'href="/round/enclosures/{enclosure.id}#task-{task.id}"' in html
    assert f'href="/cases/{case.id}"' in html and "C-2026-0042" in html


# --- the navigation's badge -------------------------------------------------------------------

def test_the_badge_counts_new_alerts_the_user_may_see(client, login, make_alert, animal, outsider, task):
    first = make_alert(animal=animal)
    make_alert("care_overdue", task=task, reference_at=task.due_at)
    make_alert("weight_loss", animal=animal, status=AlertStatus.ACKNOWLEDGED, reference_value=11, reference_at=NOW)
    make_alert("quarantine_ending", animal=animal, status=AlertStatus.RESOLVED)
    make_alert("release_ready", animal=animal)  # not a keeper's
    make_alert(animal=outsider)  # not at the keeper's facility
    login("keeper")
    html = _text(client.get("/round"))  # a keeper's home
    assert 'data-testid="nav-alerts"' in html and _badge(html) == 2
    client.post_form(f"/alerts/{first.id}/acknowledge")
    assert _badge(_text(client.get("/round"))) == 1


def test_no_badge_without_new_alerts_and_job_runs_for_admins_only(client, login):
    login("keeper")
    html = _text(client.get("/round"))
    assert 'data-testid="nav-alerts"' in html and _badge(html) is None
    assert 'href="/admin/job-runs"' not in html
    _switch(client, login, "admin")
    assert 'href="/admin/job-runs"' in _text(client.get("/"))


def _alert_counts(counter) -> list[str]:
    return [s for s in counter.statements if s.startswith("SELECT count(*)") and "FROM alerts" in s]


def test_the_badge_is_one_query_and_only_where_the_navigation_is_drawn(client, login, make_alert, animal,
                                                                      count_queries):
    make_alert(animal=animal)
    url = f"/animals/{animal.id}"
    login("keeper")
    with count_queries() as page:
        client.get(url)
    assert len(_alert_counts(page)) == 1, page
    with count_queries() as api:
        client.get("/healthz")
    assert not [s for s in api.statements if "alerts" in s.lower()], api


# --- the animal record's panel ----------------------------------------------------------------

def test_the_record_shows_unresolved_alerts_and_hides_resolved(client, login, db, make_alert, animal, task):
    open_one = make_alert(animal=animal)
    care = make_alert("care_overdue", task=task, reference_at=task.due_at)
    done = make_alert("quarantine_ending", animal=animal, status=AlertStatus.RESOLVED)
    login("keeper")
    html = _text(client.get(f"/animals/{animal.id}"))
    panel = html[html.index('data-testid="record-alerts"'):]
    panel = panel[:panel.index("</section>")]
    shown = [int(i) for i in re.findall(r'data-testid="record-alert" data-alert-id="(\d+)"', panel)]
    assert set(shown) == {open_one.id, care.id} and done.id not in shown
    assert f'action="/alerts/{open_one.id}/acknowledge"' in panel and f'action="/alerts/{open_one.id}/resolve"' in panel
    assert f'name="next" value="/animals/{animal.id}"' in panel

    response = client.post_form(f"/alerts/{open_one.id}/resolve", {"next": f"/animals/{animal.id}"})
    assert response.headers["Location"] == f"/animals/{animal.id}"
    client.post_form(f"/alerts/{care.id}/resolve", {"next": f"/animals/{animal.id}"})
    html = _text(client.get(f"/animals/{animal.id}"))
    assert 'data-testid="record-alerts"' not in html  # nothing left to act on: no panel
    assert "Alert resolved." in html


def test_the_record_panel_shows_only_the_users_kinds(client, login, make_alert, animal):
    make_alert("release_ready", animal=animal)
    login("keeper")
    assert 'data-testid="record-alerts"' not in _text(client.get(f"/animals/{animal.id}"))


def test_the_record_panel_is_one_query(client, login, make_alert, animal, count_queries):
    url = f"/animals/{animal.id}"
    login("vet")
    with count_queries() as none:
        client.get(url)
    for n in range(3):
        make_alert(animal=animal, dedup_key=f"weight_missing:{animal.id}:{n}")
    with count_queries() as three:
        html = _text(client.get(url))
    assert html.count('data-testid="record-alert"') == 3
    assert none.count == three.count, f"{none}\n----\n{three}"
    # The navigation's badge, and the panel's one read (its alerts with a window count).
    reads = [s for s in three.statements if "FROM alerts" in s]
    assert len(reads) == 2 and sum("OVER" in s for s in reads) == 1, reads


# --- queries ----------------------------------------------------------------------------------

def test_the_inbox_costs_the_same_queries_for_1_and_20_alerts(client, login, db, make_alert, facility,
                                                              count_queries):
    coordinator = login("coordinator")
    species = factories.SpeciesFactory(quarantine_days=30)

    def add_one(n):
        animal = factories.AnimalFactory(case=factories.CaseFactory(facility=facility), species=species)
        kind = n % 4
        if kind == 1:
            make_alert("quarantine_ending", animal=animal)
        elif kind == 0:
            task = CareTask(facility_id=facility.id, animal_id=animal.id, kind="feed", due_at=NOW)
            db.session.add(task)
            db.session.flush()
            alert = make_alert("care_overdue", task=task, reference_at=NOW, status=AlertStatus.ACKNOWLEDGED)
            alert.acknowledged_by_id, alert.acknowledged_at = coordinator.id, NOW
        elif kind == 2:
            make_alert("hold_review", case=animal.case, reference_at=NOW)
        else:
            make_alert("weight_loss", animal=animal, reference_value=14.5, reference_at=NOW)
        db.session.flush()

    add_one(0)
    client.get("/alerts")
    with count_queries() as one:
        html = _text(client.get("/alerts"))
    assert len(_row_ids(html)) == 1
    for n in range(1, 20):
        add_one(n)
    with count_queries() as twenty:
        html = _text(client.get("/alerts"))
    assert len(_row_ids(html)) == 20
    assert one.count == twenty.count, f"{one}\n----\n{twenty}"
