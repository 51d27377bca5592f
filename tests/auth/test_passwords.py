"""Password policy, hashing and the change-password page."""

import pytest

from app.auth.passwords import hash_password, password_problems, verify_password
from tests.factories import DEFAULT_PASSWORD


@pytest.mark.parametrize("password", ["short", "123456789", "password123", "QWERTYUIOP", "1234567890"])
def test_weak_passwords_are_refused(app, password):
    with app.app_context():
        assert password_problems(password)


def test_a_long_uncommon_password_is_accepted(app):
    with app.app_context():
        assert password_problems("river otter at dawn 42") == []


def test_hash_is_argon2_and_verifies(app):
    with app.app_context():
        hashed = hash_password("river otter at dawn 42")
        assert hashed.startswith("$argon2id$")
        assert verify_password(hashed, "river otter at dawn 42")
        assert not verify_password(hashed, "river otter at dusk 42")


def test_change_password_page_keeps_errors_on_the_form(client, login):
    login("keeper")
    response = client.post_form(
        "/account/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": "password123", "confirm": "password123"},
    )
    assert response.status_code == 200
    assert "common passwords" in response.get_data(as_text=True)


def test_change_password_ends_other_sessions_but_not_this_one(app, client, login):
    user = login("keeper")
    other_device = app.test_client()
    other_device.post_form("/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert other_device.get("/animals").status_code == 200
    response = client.post_form(
        "/account/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": "mango season 2026", "confirm": "mango season 2026"},
    )
    assert response.status_code == 302
    assert client.get("/animals").status_code == 200
    assert other_device.get("/animals").status_code == 302
