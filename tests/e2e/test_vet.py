"""A vet's exam and prescription, and the keeper giving the first dose, in Chromium at 1024×768."""

from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from app.care.models import Weight
from app.common.db import utcnow
from tests import factories

pytestmark = pytest.mark.browser


def _evening_zone() -> str:
    """A fixed-offset zone where it is now between 19:00 and 20:00, so the first BID dose (20:00) is due soon.

    Doses may be recorded from two hours before their time; a zone chosen this way makes the
    course's first dose today's next one at any hour the test runs.
    """
    offset = (19 - utcnow().hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return "Etc/GMT" + (f"-{offset}" if offset > 0 else f"+{-offset}")  # POSIX signs: Etc/GMT-7 is UTC+7


def _sign_in(page, email):
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", factories.DEFAULT_PASSWORD)
    page.locator("main button[type=submit]").first.click()
    page.wait_for_load_state()


def _sign_out(page):
    page.context.clear_cookies()


def test_a_vet_prescribes_and_the_keeper_gives_the_first_dose(page, live_db):
    facility = factories.FacilityFactory(code="PTK", name="Phnom Tamao", timezone=_evening_zone())
    factories.UserFactory(email="vet@example.org", name="Dr Chenda", role="vet", facilities=[facility])
    factories.UserFactory(email="keeper@example.org", name="Vuthy", role="keeper", facilities=[facility])
    yard = factories.EnclosureFactory(facility=facility, code="P-1", name="Macaque house", section="Primates")
    case = factories.CaseFactory(facility=facility)
    macaque = factories.AnimalFactory(case=case, enclosure=yard, name="Srey", admitted_at=utcnow() - timedelta(days=9),
                                      quarantine_cleared_on=(utcnow() - timedelta(days=2)).date())
    live_db.session.add(Weight(animal_id=macaque.id, measured_at=utcnow() - timedelta(days=8), grams=Decimal(5400)))
    live_db.session.commit()

    # The vet examines the macaque: her weight today is 6 kg.
    _sign_in(page, "vet@example.org")
    page.goto(f"/animals/{macaque.id}")
    page.locator("[data-testid=vet-actions]").get_by_role("link", name="Exam").click()
    page.fill("input[name=weight_g]", "6000")
    page.fill("input[name=bcs]", "5")
    page.fill("input[name=temperature_c]", "38.4")
    page.fill("textarea[name=findings]", "Swollen left wrist from a snare, no fracture felt.")
    page.fill("textarea[name=assessment]", "Soft tissue injury, painful.")
    page.locator("main button[type=submit]").first.click()
    expect(page.locator("[data-testid=medical-panel] [data-testid=exam]")).to_contain_text("Soft tissue injury")

    # Meloxicam 0.2 mg/kg BID for 5 days, from today's weight: 1.2 mg, 0.8 ml of a 1.5 mg/ml suspension.
    page.locator("[data-testid=vet-actions]").get_by_role("link", name="Prescribe").click()
    expect(page.locator("main")).to_contain_text("6000")
    page.fill("input[name=drug]", "Meloxicam")
    page.fill("input[name=dose_mg_per_kg]", "0.2")
    page.fill("input[name=concentration_mg_per_ml]", "1.5")
    page.select_option("select[name=route]", "PO")
    page.locator("label", has_text="BID · twice a day").click()
    page.fill("input[name=days]", "5")
    page.check("input[name=keeper_may_give]")
    page.locator("main button[type=submit]").first.click()
    expect(page.locator(".alert-success")).to_contain_text("1.2 mg = 0.8 ml")
    prescription = page.locator("[data-testid=prescriptions] [data-testid=prescription]")
    expect(prescription).to_contain_text("Meloxicam")
    expect(prescription.locator("[data-testid=doses]")).to_contain_text("0/10")
    _sign_out(page)

    # The keeper's round shows the first dose on the macaque house's page; one tap gives it.
    _sign_in(page, "keeper@example.org")
    page.wait_for_url("**/round")
    page.locator("[data-testid=round-enclosure]", has_text="Macaque house").click()
    card = page.locator("[data-task-kind=medicate]")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Meloxicam 1.2 mg = 0.8 ml PO")
    given = card.locator("button[name=given][value=given]")
    box = given.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44, f"a {box} button is too small for a gloved finger"
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the round scrolls sideways by {overflow}px at 1024×768"
    given.click()
    expect(card).to_have_attribute("data-state", "done")
    expect(card).to_contain_text("by Vuthy")

    # The record's timeline tells the story: the exam, the prescription and the dose.
    page.goto(f"/animals/{macaque.id}")
    timeline = page.locator("[data-testid=timeline]")
    expect(timeline).to_contain_text("Soft tissue injury")
    expect(timeline).to_contain_text("Meloxicam")
    expect(timeline).to_contain_text("Dose given")
    expect(prescription.locator("[data-testid=doses]")).to_contain_text("1/10")
