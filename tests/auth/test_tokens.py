"""API tokens: issued for email and password, stored hashed, revocable, expiring."""

from datetime import timedelta

import sqlalchemy as sa

from app.auth.models import ApiToken
from app.common.audit import AuditEvent
from app.common.db import utcnow
from tests.factories import DEFAULT_PASSWORD


def _token(client, user, **extra):
    response = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": DEFAULT_PASSWORD, **extra})
    assert response.status_code == 201, response.json
    return response.json


def test_token_works_and_is_stored_hashed(client, make_user, db):
    user = make_user("vet")
    issued = _token(client, user, name="field app")
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {issued['token']}"})
    assert response.status_code == 200
    assert response.json["email"] == user.email
    stored = db.session.execute(sa.select(ApiToken.token_hash)).scalars().all()
    assert issued["token"] not in stored
    assert all(len(h) == 64 for h in stored)
    audit = db.session.execute(sa.select(AuditEvent).where(AuditEvent.entity_type == "ApiToken")).scalars().all()
    assert audit and all(issued["token"] not in str(e.changes) for e in audit)


def test_revoked_token_gets_401(client, make_user):
    user = make_user("keeper")
    issued = _token(client, user)
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert client.delete(f"/api/v1/auth/tokens/{issued['id']}", headers=headers).status_code == 204
    response = client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_expired_token_gets_401(client, make_user, db):
    user = make_user("keeper")
    issued = _token(client, user, days=1)
    token = db.session.get(ApiToken, issued["id"])
    token.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {issued['token']}"}).status_code == 401


def test_wrong_password_gets_401_and_no_token(client, make_user, db):
    user = make_user("keeper")
    response = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": "wrong wrong wrong"})
    assert response.status_code == 401
    assert db.session.execute(sa.select(sa.func.count()).select_from(ApiToken)).scalar() == 0


def test_no_token_is_401_and_a_malformed_header_too(client):
    assert client.get("/api/v1/species").status_code == 401
    assert client.get("/api/v1/species", headers={"Authorization": "Basic abc"}).status_code == 401


def test_bearer_calls_need_no_csrf_but_session_calls_do(client, login, make_user):
    admin = make_user("admin")
    issued = _token(client, admin)
    body = {"code": "NEW", "name": "New station", "kind": "release_station"}
    response = client.post("/api/v1/facilities", json=body, headers={"Authorization": f"Bearer {issued['token']}"})
    assert response.status_code == 201
    login(admin)
    response = client.post("/api/v1/facilities", json={**body, "code": "NEW2"})
    assert response.status_code == 400
    token = client.csrf_token("/")
    response = client.post("/api/v1/facilities", json={**body, "code": "NEW2"}, headers={"X-CSRFToken": token})
    assert response.status_code == 201


def test_tokens_page_shows_a_new_token_once_and_revokes(client, login, db):
    user = login("coordinator")
    response = client.post_form("/account/tokens", {"name": "spreadsheet sync", "days": "30"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-testid="new-token"' in html
    token = db.session.execute(sa.select(ApiToken).where(ApiToken.user_id == user.id)).scalar_one()
    assert token.expires_at is not None
    assert 'data-testid="new-token"' not in client.get("/account/tokens").get_data(as_text=True)
    client.post_form(f"/account/tokens/{token.id}/revoke")
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None
