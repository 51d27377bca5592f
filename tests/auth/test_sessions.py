"""Sign-in and sign-out; sessions end on the server, so a copied cookie stops working."""

import pytest
import sqlalchemy as sa

from app.auth.models import LoginSession
from app.auth.services import deactivate_user
from app.common.audit import AuditEvent
from tests.factories import DEFAULT_PASSWORD


def _session_cookie(client) -> str:
    return client.get_cookie("session").value


def test_sign_in_renews_the_session_and_records_it(client, make_user, db):
    user = make_user("keeper")
    client.get("/login")
    before = _session_cookie(client)
    response = client.post_form("/login", {"email": user.email.upper(), "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert _session_cookie(client) != before
    assert client.get("/animals").status_code == 200
    actions = db.session.execute(sa.select(AuditEvent.action).where(AuditEvent.actor_id == user.id)).scalars()
    assert "login" in set(actions)


def test_wrong_password_is_refused_and_audited(client, make_user, db):
    user = make_user("keeper")
    response = client.post_form("/login", {"email": user.email, "password": "not the password"})
    assert response.status_code == 200
    assert "Wrong email or password" in response.get_data(as_text=True)
    assert client.get("/animals").status_code == 302
    failed = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "login_failed")).scalars().all()
    assert [e.changes["email"] for e in failed] == [user.email]


def test_session_replayed_after_logout_is_refused(app, client, login):
    login("keeper")
    stolen = _session_cookie(client)
    assert client.post_form("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/animals")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_deactivated_users_session_is_refused(client, login, db):
    user = login("vet")
    assert client.get("/animals").status_code == 200
    deactivate_user(user)
    db.session.commit()
    response = client.get("/animals")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    open_sessions = db.session.execute(
        sa.select(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
    ).all()
    assert open_sessions == []


def test_deactivated_user_cannot_sign_in(client, make_user, db):
    user = make_user("keeper", is_active=False)
    response = client.post_form("/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert client.get("/animals").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/phish", "//evil.example", "/\\evil.example",
                                    "/\t/evil.example"])
def test_next_parameter_only_redirects_to_local_paths(client, make_user, target):
    user = make_user("keeper")
    token = client.csrf_token()
    response = client.post(
        "/login", query_string={"next": target},
        data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_next_parameter_keeps_a_local_path(client, make_user):
    user = make_user("keeper")
    response = client.post("/login", query_string={"next": "/animals?status=in_care"},
                           data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": client.csrf_token()})
    assert response.headers["Location"] == "/animals?status=in_care"


def test_login_without_csrf_token_is_refused(client, make_user):
    user = make_user("keeper")
    response = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert client.get("/animals").status_code == 302
