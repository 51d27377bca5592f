"""A release planned, signed off, approved and completed in Chromium at 1024×768: 20 turtles of 50 and a macaque."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from app.care.models import Weight
from app.common.db import utcnow
from app.releases.models import Assessment
from app.releases.seed import seed_release_criteria
from app.releases.services import save_site
from tests import factories

pytestmark = pytest.mark.browser


def _sign_in(page, email):
    page.context.clear_cookies()
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", factories.DEFAULT_PASSWORD)
    page.locator("main button[type=submit]").first.click()
    page.wait_for_load_state()


def _ready(db, animal, manual_keys):
    """Weighed in good condition and assessed on each manual criterion an hour ago."""
    now = utcnow()
    db.session.add(Weight(animal_id=animal.id, measured_at=now - timedelta(days=2), grams=Decimal(500), bcs=5))
    db.session.add_all(Assessment(animal_id=animal.id, facility_id=animal.facility_id, criterion_key=key,
                                  result="pass", assessed_at=now - timedelta(hours=1),
                                  expires_at=now + timedelta(days=29)) for key in manual_keys)


def test_a_coordinator_releases_twenty_turtles_of_fifty_and_a_macaque(page, live_db):
    facility = factories.FacilityFactory(code="PTK", name="Phnom Tamao")
    factories.UserFactory(email="coordinator@example.org", name="Dara", role="coordinator", facilities=[facility])
    factories.UserFactory(email="vet@example.org", name="Dr Chenda", role="vet", facilities=[facility])
    seed_release_criteria()
    site = save_site(None, {"name": "Phnom Kulen", "province": "Siem Reap", "suitable_taxa": ["mammal", "reptile"]})
    case = factories.CaseFactory(facility=facility)
    cleared = (utcnow() - timedelta(days=30)).date()
    turtle = factories.SpeciesFactory(taxon_class="reptile", common_name_en="Amboina box turtle")
    turtles = factories.AnimalFactory(case=case, species=turtle, intake_quantity=50, quantity=50,
                                      admitted_at=utcnow() - timedelta(days=60), quarantine_cleared_on=cleared)
    macaque = factories.AnimalFactory(case=case, name="Srey", admitted_at=utcnow() - timedelta(days=90),
                                      quarantine_cleared_on=cleared)
    _ready(live_db, turtles, ["feeds_unassisted"])
    _ready(live_db, macaque, ["forages_natural_food", "avoids_humans", "climbs_well"])
    live_db.session.commit()

    # The planning board shows both ready; the coordinator ticks them and plans a release.
    _sign_in(page, "coordinator@example.org")
    page.goto("/releases")
    ready = page.locator("[data-testid=board-ready]")
    expect(ready.locator("[data-testid=ready-row]")).to_have_count(2)
    for animal in (turtles, macaque):
        ready.locator(f"input[name=animal][value='{animal.id}']").check()
    page.get_by_role("button", name="Plan a release").click()
    page.select_option("select[name=site_id]", str(site.id))
    page.fill("input[name=planned_on]", utcnow().astimezone(ZoneInfo(facility.timezone)).date().isoformat())
    page.fill(f"input[name=count_{turtles.id}]", "20")
    page.get_by_role("button", name="Save the plan").click()
    expect(page.locator("[data-testid=plan-status]")).to_have_text("Draft")
    expect(page.locator("[data-testid=needs-signoff]")).to_be_visible()
    plan_url = page.url
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the plan scrolls sideways by {overflow}px at 1024×768"

    # A vet signs it off.
    _sign_in(page, "vet@example.org")
    page.goto(plan_url)
    page.locator("[data-testid=plan-actions]").get_by_role("link", name="Sign off").click()
    page.get_by_role("button", name="Sign off").click()
    expect(page.locator("[data-testid=signoff]")).to_contain_text("Dr Chenda")

    # The coordinator approves it with the authority's permit, then records the release.
    _sign_in(page, "coordinator@example.org")
    page.goto(plan_url)
    page.locator("[data-testid=plan-actions]").get_by_role("link", name="Approve").click()
    page.fill("input[name=permit_reference]", "GDANCP 117/26")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("[data-testid=plan-status]")).to_have_text("Approved")
    page.locator("[data-testid=plan-actions]").get_by_role("link", name="Record the release").click()
    page.get_by_role("button", name="Record the release").click()
    expect(page.locator("[data-testid=plan-status]")).to_have_text("Completed")
    expect(page.locator("[data-testid=survival-released]")).to_have_text("21")

    # The lot has 30 in care; the macaque's record says it was released.
    page.goto(f"/animals/{turtles.id}")
    expect(page.locator("[data-testid=quantity]")).to_contain_text("30 in care / 50 at intake")
    page.goto(f"/animals/{macaque.id}")
    expect(page.locator("[data-testid=animal-header] [data-testid=status]")).to_have_text("Released")
