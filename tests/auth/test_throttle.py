"""Failed sign-ins are throttled per address and per account, without locking the owner out."""

from tests.factories import DEFAULT_PASSWORD


def _attempt(client, email, password, address):
    token = client.csrf_token()
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def test_eleventh_failure_in_a_minute_is_429_and_owner_still_signs_in_elsewhere(app, client, make_user):
    user = make_user("keeper")
    for _ in range(10):
        assert _attempt(client, user.email, "wrong password!", "203.0.113.9").status_code == 200
    assert _attempt(client, user.email, "wrong password!", "203.0.113.9").status_code == 429
    # Even the right password is refused from the attacker's address for now...
    assert _attempt(client, user.email, DEFAULT_PASSWORD, "203.0.113.9").status_code == 429
    # ...but the owner, somewhere else, is not locked out.
    owner = app.test_client()
    assert _attempt(owner, user.email, DEFAULT_PASSWORD, "198.51.100.7").status_code == 302


def test_successful_sign_ins_do_not_count(client, make_user):
    user = make_user("keeper")
    for _ in range(12):
        assert _attempt(client, user.email, DEFAULT_PASSWORD, "192.0.2.1").status_code == 302
        client.post_form("/logout")


def test_token_endpoint_is_throttled_too(client, make_user):
    user = make_user("keeper")
    for _ in range(10):
        response = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": "nope nope nope"})
        assert response.status_code == 401
    response = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": "nope nope nope"})
    assert response.status_code == 429
    assert response.json["error"]["code"] == "too_many_requests"
