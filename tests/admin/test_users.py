"""User administration: create, edit (with conflicts), deactivate, reactivate, reset password."""

import re

import pytest
import sqlalchemy as sa

from app.auth.models import LoginSession, User
from app.auth.passwords import verify_password
from tests.factories import DEFAULT_PASSWORD, FacilityFactory, UserFactory

NEW_PASSWORD = "tamarind monsoon lantern 42"
INITIAL_PASSWORD = "kapok river gibbon 17"


def sign_in(client, email: str, password: str):
    return client.post_form("/login", {"email": email, "password": password})


def user_by_email(db, email: str) -> User | None:
    db.session.expire_all()
    return db.session.execute(sa.select(User).where(User.email == email)).scalar_one_or_none()


def user_row(html: str, email: str) -> str:
    """The users list's table row of one user."""
    return re.search(rf'<tr data-testid="user-row" data-email="{re.escape(email)}".*?</tr>', html, re.S).group(0)


def new_user_form(facility, **changes) -> dict:
    data = {
        "email": "sophea@example.org", "name": "Sophea Chan", "role": "keeper",
        "facility_ids": [facility.id], "locale": "km", "password": INITIAL_PASSWORD,
    }
    data.update(changes)
    return data


def edit_form(user: User, **changes) -> dict:
    data = {
        "name": user.name, "role": user.role, "facility_ids": [f.id for f in user.facilities],
        "locale": user.locale or "", "version": user.version,
    }
    data.update(changes)
    return data


@pytest.fixture
def admin(login):
    return login("admin")


def test_users_list_shows_each_users_facts(client, admin, make_user, facility, other_facility):
    keeper = make_user("keeper", facilities=[facility, other_facility], name="Dara Keeper")
    coordinator = make_user("coordinator", name="Network Coordinator")
    viewer = make_user("viewer", facilities=[], name="Unassigned Viewer", is_active=False)
    html = client.get("/admin/users").get_data(as_text=True)
    assert "Dara Keeper" in html and keeper.email in html
    row = user_row(html, keeper.email)
    assert "PTK" in row and "KOH" in row and "Keeper" in row and "active" in row
    coordinator_row = user_row(html, coordinator.email)
    assert "all facilities" in coordinator_row
    viewer_row = user_row(html, viewer.email)
    assert "no facility" in viewer_row and "inactive" in viewer_row and "Reactivate" in viewer_row
    # The admin's own row has a last sign-in time (in local time) and no deactivate button.
    own_row = user_row(html, admin.email)
    assert "never" not in own_row and "Deactivate" not in own_row


def test_users_list_search(client, admin, make_user):
    make_user("vet", name="Vannak Vet")
    make_user("keeper", name="Kosal Keeper")
    html = client.get("/admin/users?q=vannak").get_data(as_text=True)
    assert "Vannak Vet" in html and "Kosal Keeper" not in html


def test_admin_creates_a_keeper_who_must_choose_a_password(app, client, admin, facility, db):
    response = client.post_form("/admin/users/new", new_user_form(facility, email="Sophea@Example.org"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/users")
    created = user_by_email(db, "sophea@example.org")
    assert created is not None and created.role == "keeper" and created.is_active
    assert [f.code for f in created.facilities] == ["PTK"]
    assert created.locale == "km" and created.must_change_password
    assert "Sophea Chan" in client.get("/admin/users").get_data(as_text=True)

    keeper = app.test_client()
    assert sign_in(keeper, "sophea@example.org", INITIAL_PASSWORD).status_code == 302
    forced = keeper.get("/")
    assert forced.status_code == 302 and forced.headers["Location"].endswith("/account/password")
    changed = keeper.post_form("/account/password", {
        "current_password": INITIAL_PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
    })
    assert changed.status_code == 302 and changed.headers["Location"].endswith("/")
    home = keeper.get("/", follow_redirects=True)  # a keeper's home is the round
    assert home.status_code == 200 and "Sophea Chan" in home.get_data(as_text=True)
    assert not user_by_email(db, "sophea@example.org").must_change_password


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "taken@example.org"}, "already exists"),
        ({"password": "short"}, "at least 10 characters"),
        ({"password": "password123"}, "common passwords"),
        ({"email": "not-an-email"}, "Invalid email"),
        ({"name": ""}, "This field is required"),
        ({"role": "overlord"}, "Not a valid choice"),
        ({"facility_ids": [999_999]}, "valid choice"),
    ],
)
def test_bad_input_on_create_rerenders_with_errors_and_stores_nothing(
    client, admin, facility, make_user, db, changes, message
):
    make_user("vet", email="taken@example.org")
    count_before = db.session.execute(sa.select(sa.func.count(User.id))).scalar_one()
    data = new_user_form(facility, name="Typed Name")
    data.update(changes)
    response = client.post_form("/admin/users/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message.lower() in html.lower()
    assert "Nothing was saved yet" in html
    # What was typed is still there; the password is never echoed back.
    assert f'value="{data["email"]}"' in html
    if data["name"]:
        assert 'value="Typed Name"' in html
    if "facility_ids" not in changes:
        assert re.search(rf'checked[^>]*value="{facility.id}"|value="{facility.id}"[^>]*checked', html)
    assert data["password"] not in html.replace("common passwords", "")
    db.session.expire_all()
    assert db.session.execute(sa.select(sa.func.count(User.id))).scalar_one() == count_before


def test_duplicate_email_and_weak_password_are_reported_together(client, admin, facility, make_user, db):
    make_user("vet", email="taken@example.org")
    response = client.post_form("/admin/users/new", new_user_form(
        facility, email="TAKEN@example.org", password="password123"))
    html = response.get_data(as_text=True)
    assert "already exists" in html and "common passwords" in html
    assert html.count("invalid-feedback") >= 2


def test_edit_changes_name_role_facilities_and_language(client, admin, make_user, facility, other_facility, db):
    keeper = make_user("keeper", name="Old Name")
    form_page = client.get(f"/admin/users/{keeper.id}/edit").get_data(as_text=True)
    assert 'value="Old Name"' in form_page and keeper.email in form_page
    assert 'name="email"' not in form_page
    response = client.post_form(f"/admin/users/{keeper.id}/edit", edit_form(
        keeper, name="New Name", role="vet", facility_ids=[other_facility.id], locale="en"))
    assert response.status_code == 302
    db.session.expire_all()
    keeper = db.session.get(User, keeper.id)
    assert (keeper.name, keeper.role, keeper.locale) == ("New Name", "vet", "en")
    assert [f.code for f in keeper.facilities] == ["KOH"]


def test_edit_with_a_stale_version_is_refused_with_a_clear_message(client, admin, make_user, db):
    keeper = make_user("keeper", name="Original")
    loaded_version = keeper.version
    # Someone else saves meanwhile.
    assert client.post_form(f"/admin/users/{keeper.id}/edit", edit_form(keeper, name="Their Change")).status_code == 302

    response = client.post_form(f"/admin/users/{keeper.id}/edit", edit_form(
        keeper, name="My Change", role="vet", version=loaded_version))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "changed by someone else" in html
    assert 'value="My Change"' in html  # what I typed is kept
    assert 'data-testid="current-name">Their Change<' in html  # the current values are shown
    db.session.expire_all()
    current = db.session.get(User, keeper.id)
    assert (current.name, current.role) == ("Their Change", "keeper")
    # The form now carries the current version: saving again knowingly replaces the values.
    version = int(re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1))
    assert version == current.version
    again = client.post_form(f"/admin/users/{keeper.id}/edit", edit_form(current, name="My Change", version=version))
    assert again.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, keeper.id).name == "My Change"


def test_edit_without_a_version_is_treated_as_a_conflict(client, admin, make_user):
    keeper = make_user("keeper")
    data = edit_form(keeper, name="No version")
    del data["version"]
    assert client.post_form(f"/admin/users/{keeper.id}/edit", data).status_code == 409


def test_admin_cannot_change_their_own_role(client, admin, db):
    response = client.post_form(f"/admin/users/{admin.id}/edit", edit_form(admin, role="viewer"))
    assert response.status_code == 200
    assert "cannot change your own role" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).role == "admin"


def test_unknown_user_is_404(client, admin):
    assert client.get("/admin/users/999999/edit").status_code == 404
    assert client.post_form("/admin/users/999999/deactivate").status_code == 404


def test_deactivation_ends_the_users_open_session(app, client, admin, make_user, db):
    keeper = make_user("keeper")
    keeper_client = app.test_client()
    assert sign_in(keeper_client, keeper.email, DEFAULT_PASSWORD).status_code == 302
    assert keeper_client.get("/animals").status_code == 200

    response = client.post_form(f"/admin/users/{keeper.id}/deactivate")
    assert response.status_code == 302
    assert "is deactivated" in client.get("/admin/users").get_data(as_text=True)

    refused = keeper_client.get("/animals")
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    db.session.expire_all()
    assert not db.session.get(User, keeper.id).is_active
    open_sessions = db.session.execute(
        sa.select(LoginSession).where(LoginSession.user_id == keeper.id, LoginSession.ended_at.is_(None))
    ).all()
    assert open_sessions == []
    assert sign_in(keeper_client, keeper.email, DEFAULT_PASSWORD).status_code == 200  # refused


def test_reactivated_user_can_sign_in_again(app, client, admin, make_user, db):
    keeper = make_user("keeper", is_active=False)
    assert client.post_form(f"/admin/users/{keeper.id}/reactivate").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, keeper.id).is_active
    assert sign_in(app.test_client(), keeper.email, DEFAULT_PASSWORD).status_code == 302


def test_admin_cannot_deactivate_themself(client, admin, db):
    response = client.post_form(f"/admin/users/{admin.id}/deactivate", follow_redirects=True)
    assert response.status_code == 200
    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).is_active
    assert client.get("/admin/users").status_code == 200  # still signed in


def test_deactivate_without_csrf_token_changes_nothing(client, admin, make_user, db):
    keeper = make_user("keeper")
    response = client.post(f"/admin/users/{keeper.id}/deactivate")
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, keeper.id).is_active


def test_reset_password_forces_a_change_at_next_sign_in(app, client, admin, make_user, db):
    keeper = make_user("keeper")
    keeper_client = app.test_client()
    assert sign_in(keeper_client, keeper.email, DEFAULT_PASSWORD).status_code == 302

    page = client.get(f"/admin/users/{keeper.id}/reset-password")
    assert page.status_code == 200 and keeper.email in page.get_data(as_text=True)
    response = client.post_form(f"/admin/users/{keeper.id}/reset-password", {"new_password": INITIAL_PASSWORD})
    assert response.status_code == 302

    # The old session is over, the old password no longer works, the new one forces a change.
    assert "/login" in keeper_client.get("/").headers["Location"]
    assert sign_in(keeper_client, keeper.email, DEFAULT_PASSWORD).status_code == 200
    assert sign_in(keeper_client, keeper.email, INITIAL_PASSWORD).status_code == 302
    assert keeper_client.get("/").headers["Location"].endswith("/account/password")
    db.session.expire_all()
    stored = db.session.get(User, keeper.id)
    assert stored.must_change_password and verify_password(stored.password_hash, INITIAL_PASSWORD)


@pytest.mark.parametrize(("password", "message"), [("short", "at least 10"), ("password123", "common passwords")])
def test_reset_password_refuses_weak_passwords(client, admin, make_user, db, password, message):
    keeper = make_user("keeper")
    response = client.post_form(f"/admin/users/{keeper.id}/reset-password", {"new_password": password})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get(User, keeper.id)
    assert not stored.must_change_password and verify_password(stored.password_hash, DEFAULT_PASSWORD)


def test_own_password_is_changed_on_the_account_page(client, admin):
    response = client.get(f"/admin/users/{admin.id}/reset-password")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")


def test_users_list_query_count_does_not_grow_with_rows(client, admin, count_queries, db):
    facilities = FacilityFactory.create_batch(3)
    UserFactory(role="keeper", facilities=facilities[:2])
    client.get("/admin/users")  # warm up
    with count_queries() as few:
        assert client.get("/admin/users").status_code == 200
    for i in range(49):
        UserFactory(role="keeper", facilities=[facilities[i % 3]])
    with count_queries() as many:
        html = client.get("/admin/users").get_data(as_text=True)
    assert html.count('data-testid="user-row"') == 50
    assert many.count == few.count, many


def test_stale_edit_is_refused_after_a_facilities_only_change(client, admin, make_user, other_facility):
    keeper = make_user("keeper")
    loaded_version = keeper.version
    assert client.post_form(f"/admin/users/{keeper.id}/edit", edit_form(
        keeper, facility_ids=[other_facility.id])).status_code == 302
    response = client.post_form(f"/admin/users/{keeper.id}/edit", edit_form(
        keeper, role="vet", version=loaded_version))
    assert response.status_code == 409
