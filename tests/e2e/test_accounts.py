"""Accounts in a real browser: an admin creates a keeper, who signs in and sees the keeper's navigation."""

import pytest

from tests import factories

pytestmark = pytest.mark.browser


def _sign_in(page, email, password):
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def _sign_out(page):
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():  # at tablet width the menu is folded
        toggler.click()
    page.click("nav .dropdown-toggle")
    page.click("[data-testid=sign-out]")
    page.wait_for_url("**/login")


def test_admin_creates_a_keeper_who_signs_in_and_sees_the_keeper_navigation(page, live_db):
    facility = factories.FacilityFactory(code="PTK", name="Phnom Tamao")
    factories.UserFactory(email="admin@example.org", name="Sokha", role="admin")
    live_db.session.commit()

    _sign_in(page, "admin@example.org", factories.DEFAULT_PASSWORD)
    page.goto("/admin/users/new")
    page.fill("input[name=email]", "vuthy@example.org")
    page.fill("input[name=name]", "Vuthy")
    page.select_option("select[name=role]", "keeper")
    page.check(f"input[name=facility_ids][value='{facility.id}']")
    page.fill("input[name=password]", "first day at the centre")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/admin/users**")
    assert "vuthy@example.org" in page.content()
    _sign_out(page)

    _sign_in(page, "vuthy@example.org", "first day at the centre")
    # A password set by an admin must be replaced at the first sign-in.
    page.wait_for_url("**/account/password")
    page.fill("input[name=current_password]", "first day at the centre")
    page.fill("input[name=new_password]", "otters swim at dawn")
    page.fill("input[name=confirm]", "otters swim at dawn")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/round")  # a keeper's home is the round
    nav = page.locator("[data-nav-role]")
    assert nav.get_attribute("data-nav-role") == "keeper"
    page.locator(".navbar-toggler").click()
    links = [text.strip() for text in nav.locator("a.nav-link").all_inner_texts()]
    assert "Users" not in links and "Audit log" not in links
    assert "Home" in links
