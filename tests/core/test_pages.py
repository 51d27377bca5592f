"""Every page: no external URL, security headers, error pages, language choice."""

import re

import pytest

EXTERNAL = re.compile(r"""(?:src|href|action|content)\s*=\s*["']\s*(?:https?:)?//(?!127\.0\.0\.1|localhost)""", re.I)


def _static_get_pages(app):
    """Every GET page without URL arguments, outside the API."""
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(("/api/", "/static")):
            yield rule.rule


def test_no_page_refers_to_an_external_url(app, client, login):
    login("admin")
    checked = 0
    for path in _static_get_pages(app):
        response = client.get(path, follow_redirects=True)
        if response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        assert not EXTERNAL.search(html), f"{path} refers to {EXTERNAL.search(html).group(0)!r}"
        checked += 1
    assert checked >= 5


def test_signed_out_pages_have_no_external_url_either(client):
    html = client.get("/login").get_data(as_text=True)
    assert not EXTERNAL.search(html)


def test_security_headers_on_every_response(client, login):
    for response in (client.get("/login"), client.get("/healthz"), client.get("/api/v1/nothing")):
        headers = response.headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
    login("keeper")
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_no_inline_script_in_the_layout(client):
    html = client.get("/login").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "style=" not in html


@pytest.mark.parametrize(("path", "status"), [("/nope", 404), ("/logout", 405)])
def test_html_error_pages(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert "<h1" in response.get_data(as_text=True)


def test_api_errors_use_the_envelope(client):
    response = client.post("/api/v1/auth/tokens", json={"email": "x@example.org"})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert "password" in response.json["error"]["fields"]


def test_strict_integers_in_json_bodies(client, login):
    login("admin")
    token = client.csrf_token("/")
    response = client.post("/api/v1/enclosures", json={"facility_id": "1", "code": "A", "name": "B"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 422
    assert response.json["error"]["fields"]["facility_id"] == ["Not a valid integer."]


def test_language_from_query_then_accept_language(client):
    assert 'lang="km"' in client.get("/login?lang=km").get_data(as_text=True)
    # The choice is remembered for the session.
    assert 'lang="km"' in client.get("/login").get_data(as_text=True)


def test_language_from_accept_language(app):
    fresh = app.test_client()
    html = fresh.get("/login", headers={"Accept-Language": "km-KH,km;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert 'lang="km"' in html
    html = fresh.get("/login", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert 'lang="en"' in html


def test_too_large_body_is_413_in_both_forms(client):
    big = b"x" * (13 * 1024 * 1024)
    response = client.post("/api/v1/auth/tokens", data=big, content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"
    response = client.post("/login", data={"email": "a@example.org", "password": "x" * (13 * 1024 * 1024)})
    assert response.status_code == 413
    assert response.mimetype == "text/html"


def test_unexpected_errors_are_500_pages_not_tracebacks(_tmp_dir):
    from app import create_app
    from tests.conftest import make_config

    app = create_app(make_config(f"sqlite:///{_tmp_dir}/errors.sqlite3", TESTING=False))

    @app.get("/boom")
    def boom():
        raise RuntimeError("a bug")

    @app.get("/api/v1/boom")
    def api_boom():
        raise RuntimeError("a bug")

    client = app.test_client()
    page = client.get("/boom")
    assert page.status_code == 500 and page.mimetype == "text/html"
    assert "a bug" not in page.get_data(as_text=True)
    api = client.get("/api/v1/boom")
    assert api.status_code == 500
    assert api.json["error"]["code"] == "internal_error"


def test_khmer_catalogue_translates_the_layout(client, login):
    html = client.get("/login?lang=km").get_data(as_text=True)
    assert "ចូលប្រើ" in html  # "Sign in"
    assert "សៀវភៅកត់ត្រាការសង្គ្រោះ" in html  # "Rescue Ledger"
    login("keeper")
    html = client.get("/round?lang=km").get_data(as_text=True)  # a keeper's home
    assert "ទំព័រដើម" in html and "ចាកចេញ" in html  # "Home", "Sign out"


def test_readme_lists_the_permission_table_as_the_code_has_it():
    from pathlib import Path

    from app.auth.models import Role
    from app.auth.permissions import PERMISSIONS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    order = [Role.ADMIN, Role.COORDINATOR, Role.VET, Role.KEEPER, Role.VIEWER]
    for action, roles in PERMISSIONS.items():
        row = "| " + action + " | " + " | ".join("✓" if r in roles else "" for r in order) + " |"
        assert row in readme, f"README's permission table is out of date for {action}"


def test_an_id_too_large_for_the_database_is_not_found(client, login):
    login("vet")
    huge = 2**63
    assert client.get(f"/animals/{huge}").status_code == 404
    assert client.get(f"/animals/{huge}/exams/new").status_code == 404
    assert client.get(f"/api/v1/animals/{huge}").status_code in (401, 404)
