"""The home page in a real browser: signs in, renders, nothing leaves 127.0.0.1."""

import pytest

from tests import factories

pytestmark = pytest.mark.browser


def test_home_page_renders_with_no_console_errors_and_no_external_requests(page, live_db):
    factories.UserFactory(email="admin@example.org", name="Sokha", role="admin")
    live_db.session.commit()

    page.goto("/")
    assert page.url.endswith("/login?next=/")
    page.fill("input[name=email]", "admin@example.org")
    page.fill("input[name=password]", factories.DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    assert page.locator("h1").inner_text().startswith("Welcome")
    assert page.locator("nav [data-nav-role=admin]").count() == 1
