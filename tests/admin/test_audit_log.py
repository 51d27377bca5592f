"""Account changes leave audit rows; the audit page filters them and shows them readably."""

import json
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.admin.queries import local_date_range
from app.auth.models import User
from app.common.audit import AuditEvent

PASSWORD = "kapok river gibbon 17"


@pytest.fixture
def admin(login):
    return login("admin")


def user_events(db, user_id: int) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.execute(
        sa.select(AuditEvent)
        .where(AuditEvent.entity_type == "User", AuditEvent.entity_id == str(user_id),
               AuditEvent.action.in_(["insert", "update"]))
        .order_by(AuditEvent.id)
    ).scalars())


def page_text(html: str) -> str:
    """The page's text without tags, whitespace collapsed: what a reader sees."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def add_event(db, occurred_at: datetime, **values) -> AuditEvent:
    fields = {"actor": "cli", "action": "update", "entity_type": "Species", "entity_id": "1", "changes": None}
    fields.update(values)
    event = AuditEvent(occurred_at=occurred_at, **fields)
    db.session.add(event)
    db.session.flush()
    return event


def test_create_edit_deactivate_and_reset_are_audited_without_secrets(
    client, admin, facility, other_facility, db
):
    response = client.post_form("/admin/users/new", {
        "email": "dara@example.org", "name": "Dara", "role": "keeper", "facility_ids": [facility.id],
        "locale": "", "password": PASSWORD,
    })
    assert response.status_code == 302
    user = db.session.execute(sa.select(User).where(User.email == "dara@example.org")).scalar_one()

    client.post_form(f"/admin/users/{user.id}/edit", {
        "name": "Dara", "role": "vet", "facility_ids": [other_facility.id], "locale": "", "version": user.version,
    })
    client.post_form(f"/admin/users/{user.id}/deactivate")
    client.post_form(f"/admin/users/{user.id}/reset-password", {"new_password": "tamarind monsoon lantern 42"})

    events = user_events(db, user.id)
    assert {e.actor for e in events} == {admin.email}
    assert {e.actor_id for e in events} == {admin.id}
    inserted, *updates = events
    assert inserted.action == "insert" and {e.action for e in updates} == {"update"}
    # One edit may be recorded in more than one row (one per flush); together they say it all.
    edited = {key: value for e in updates[:-2] for key, value in e.changes.items()}
    deactivated, reset = updates[-2:]
    assert inserted.changes["email"] == "dara@example.org" and inserted.changes["role"] == "keeper"
    assert inserted.changes["facilities"]["added"] == [str(facility.id)]
    assert edited["role"] == {"old": "keeper", "new": "vet"}
    assert edited["facilities"] == {"added": [str(other_facility.id)], "removed": [str(facility.id)]}
    assert deactivated.changes["is_active"] == {"old": True, "new": False}
    assert reset.changes["password_hash"] == "<changed>"
    # No password hash value anywhere, nor the passwords themselves.
    everything = json.dumps([e.changes for e in events])
    assert "$argon2" not in everything
    assert PASSWORD not in everything and "tamarind" not in everything
    assert "password_hash" not in inserted.changes


def test_audit_page_shows_an_update_as_old_and_new_values(client, admin, make_user, db):
    keeper = make_user("keeper", name="Sokha")
    client.post_form(f"/admin/users/{keeper.id}/edit", {
        "name": "Sokha Meas", "role": "vet", "facility_ids": [f.id for f in keeper.facilities], "locale": "",
        "version": keeper.version,
    })
    html = client.get(f"/admin/audit?entity_type=User&entity_id={keeper.id}&action=update").get_data(as_text=True)
    text = page_text(html)
    assert "role: keeper → vet" in text
    assert "name: Sokha → Sokha Meas" in text
    assert admin.email in text
    assert html.count('data-testid="audit-row"') == 1
    # Read-only: the only form that posts is the navigation's sign-out.
    assert re.findall(r'<form method="post" action="([^"]+)"', html) == ["/logout"]


def test_audit_page_filters_by_entity_type_and_actor(client, admin, db):
    now = datetime.now(UTC)
    add_event(db, now, entity_type="Species", entity_id="7", actor="cli", changes={"name": "Loris"})
    add_event(db, now, entity_type="Enclosure", entity_id="8", actor="system:overdue_tasks")

    by_type = page_text(client.get("/admin/audit?entity_type=Species").get_data(as_text=True))
    assert "Species #7" in by_type and "Enclosure #8" not in by_type and "name: Loris" in by_type

    by_actor = client.get("/admin/audit?actor=SYSTEM:overdue").get_data(as_text=True)
    assert "Enclosure" in page_text(by_actor) and "Species #7" not in page_text(by_actor)
    assert by_actor.count('data-testid="audit-row"') == 1

    # The admin's own sign-in is there too, found by part of the email.
    by_email = client.get(f"/admin/audit?actor={admin.email.split('@')[0]}&action=login").get_data(as_text=True)
    assert by_email.count('data-testid="audit-row"') == 1
    # The type select offers the types present in the log.
    options = client.get("/admin/audit").get_data(as_text=True)
    assert '<option value="Enclosure">' in options and '<option value="Species">' in options


def test_audit_page_date_range_is_in_the_local_time_zone(client, admin, db):
    # Phnom Penh is UTC+7: 20:00 UTC on the 10th is 03:00 on the 11th there.
    add_event(db, datetime(2026, 3, 10, 16, 30, tzinfo=UTC), entity_id="before")   # 23:30 on the 10th
    add_event(db, datetime(2026, 3, 10, 20, 0, tzinfo=UTC), entity_id="early")     # 03:00 on the 11th
    add_event(db, datetime(2026, 3, 11, 16, 59, tzinfo=UTC), entity_id="late")     # 23:59 on the 11th
    add_event(db, datetime(2026, 3, 11, 17, 0, tzinfo=UTC), entity_id="after")     # 00:00 on the 12th

    html = client.get("/admin/audit?entity_type=Species&date_from=2026-03-11&date_to=2026-03-11").get_data(
        as_text=True)
    text = page_text(html)
    assert "#early" in text and "#late" in text
    assert "#before" not in text and "#after" not in text
    assert "ICT" in text or "+07" in text or "Phnom_Penh" in text  # the zone is named on the page

    only_from = page_text(client.get("/admin/audit?entity_type=Species&date_from=2026-03-12").get_data(as_text=True))
    assert "#after" in only_from and "#late" not in only_from


def test_instants_in_changes_are_shown_in_local_time(client, admin, db):
    add_event(db, datetime.now(UTC), entity_type="Probe",
              changes={"last_login_at": {"old": None, "new": "2026-03-10T20:00:00+00:00"}})
    text = page_text(client.get("/admin/audit?entity_type=Probe").get_data(as_text=True))
    assert "last_login_at: — → Mar 11, 2026, 3:00:00" in text  # 03:00 in Phnom Penh
    assert "2026-03-10T20" not in text


def test_bad_dates_are_reported_not_a_crash(client, admin):
    response = client.get("/admin/audit?date_from=yesterday&date_to=2026-01-01")
    assert response.status_code == 200
    assert "Not a valid date" in response.get_data(as_text=True)
    reversed_range = client.get("/admin/audit?date_from=2026-02-01&date_to=2026-01-01")
    assert "before the start date" in reversed_range.get_data(as_text=True)


def test_local_date_range_converts_to_utc():
    since, before = local_date_range(date(2026, 3, 11), date(2026, 3, 11), ZoneInfo("Asia/Phnom_Penh"))
    assert since == datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
    assert before == datetime(2026, 3, 11, 17, 0, tzinfo=UTC)
    assert local_date_range(None, None, ZoneInfo("UTC")) == (None, None)


def test_audit_page_query_count_does_not_grow_with_rows(client, admin, count_queries, db):
    now = datetime.now(UTC)
    add_event(db, now, entity_type="Probe", changes={"name": {"old": "a", "new": "b"}})
    url = "/admin/audit?entity_type=Probe"
    client.get(url)  # warm up
    with count_queries() as few:
        assert client.get(url).get_data(as_text=True).count('data-testid="audit-row"') == 1
    for i in range(49):
        add_event(db, now, entity_type="Probe", entity_id=str(i), changes={"value": i})
    with count_queries() as many:
        assert client.get(url).get_data(as_text=True).count('data-testid="audit-row"') == 50
    assert many.count == few.count, many
