"""The keeper's round in a real browser at 1024×768: ten tasks done with taps only, then seen on the records."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from app.care.models import CareSchedule, CareTask
from app.care.timing import local_day_bounds
from app.common.db import utcnow
from tests import factories

pytestmark = pytest.mark.browser

ZONE = ZoneInfo("Asia/Phnom_Penh")
AMOUNTS = ["all", "most", "half", "little", "none", "most", "all", "half"]
AMOUNT_LABELS = {"all": "All", "most": "Most", "half": "Half", "little": "Little", "none": "None"}


def _due_now() -> datetime:
    """Ten minutes ago, but never before today's local midnight: a done task of yesterday leaves the round."""
    now = utcnow()
    day_start, _end = local_day_bounds(now.astimezone(ZONE).date(), ZONE)
    return max(now - timedelta(minutes=10), day_start)


def _task(db, kind, *, facility, animal=None, enclosure=None, due_at, diet=None):
    """A schedule and its task due now, as the schedule services would have made them this morning."""
    schedule = CareSchedule(facility_id=facility.id, animal_id=animal.id if animal else None,
                            enclosure_id=enclosure.id if enclosure else None, kind=kind,
                            times=[due_at.astimezone(ZONE).strftime("%H:%M")], starts_on=date(2026, 1, 1),
                            diet_items=diet or [], tasks_from=due_at - timedelta(hours=1))
    db.session.add(schedule)
    db.session.flush()
    task = CareTask(schedule_id=schedule.id, facility_id=facility.id, kind=kind, due_at=due_at,
                    animal_id=schedule.animal_id, enclosure_id=schedule.enclosure_id)
    db.session.add(task)
    db.session.flush()
    return task


def _no_sideways_scroll(page):
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the round scrolls sideways by {overflow}px at 1024×768"


def _feed(card, amount):
    expect(card).to_have_attribute("data-task-kind", "feed")
    button = card.locator(f"button.btn-eaten-{amount}")
    expect(button).to_have_text(AMOUNT_LABELS[amount])
    box = button.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44, f"a {box} button is too small for a gloved finger"
    button.click()
    expect(card).to_have_attribute("data-state", "done")
    expect(card.locator("[data-testid=task-done]")).to_contain_text(f"eaten: {AMOUNT_LABELS[amount]}")
    expect(card.locator("[data-testid=task-done]")).to_contain_text("by Vuthy")


def _weigh(page, card):
    expect(card).to_have_attribute("data-task-kind", "weigh")
    grams = card.locator("input[name=grams]")
    for key in ["2", "4", "5", "9", "⌫", "0", ".", "5", "."]:  # a slip undone, a second point ignored
        card.locator(f".keypad [data-key='{key}']").click()
    expect(grams).to_have_value("2450.5")
    card.locator(".btn-bcs", has_text="5").click()
    expect(card.locator("input[name=bcs][value='5']")).to_be_checked()
    _no_sideways_scroll(page)
    card.locator("button.btn-done", has_text="Save weight").click()
    expect(card.locator("[data-testid=task-weight]")).to_have_text("2450.5 g")


def test_a_keeper_completes_a_round_of_ten_tasks_with_taps_only(page, live_db):
    facility = factories.FacilityFactory(code="PTK", name="Phnom Tamao")
    factories.UserFactory(email="keeper@example.org", name="Vuthy", role="keeper", facilities=[facility])
    primates = factories.EnclosureFactory(facility=facility, code="P-1", name="Macaque house", section="Primates")
    gibbons = factories.EnclosureFactory(facility=facility, code="P-2", name="Gibbon island", section="Primates")
    reptiles = factories.EnclosureFactory(facility=facility, code="R-1", name="Turtle ponds", section="Reptiles")
    case = factories.CaseFactory(facility=facility)
    homes = [primates] * 3 + [gibbons] * 2 + [reptiles] * 3
    animals = [factories.AnimalFactory(case=case, enclosure=home, name=f"Animal {n}") for n, home in enumerate(homes)]
    due_at = _due_now()
    feeds = [_task(live_db, "feed", facility=facility, animal=animal, due_at=due_at,
                   diet=[{"food": "Banana", "grams": 150, "preparation": "halved"}]) for animal in animals]
    clean = _task(live_db, "clean", facility=facility, enclosure=reptiles, due_at=due_at)
    weighed = animals[0]
    weigh = _task(live_db, "weigh", facility=facility, animal=weighed, due_at=due_at)
    live_db.session.commit()

    page.goto("/login")
    page.fill("input[name=email]", "keeper@example.org")
    page.fill("input[name=password]", factories.DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/round")  # a keeper's home is the round

    # From here on, taps only: no typing. The round opens on the enclosures, by section.
    lines = page.locator("[data-testid=round-enclosure]")
    expect(lines).to_have_count(3)
    expect(page.locator("[data-testid=round-count]")).to_have_text(re.compile(r"^\s*10 to do · 0 done\s*$"))
    _no_sideways_scroll(page)
    amounts = {task.id: amount for task, amount in zip(feeds, AMOUNTS, strict=True)}

    for code in ("P-1", "P-2", "R-1"):
        page.locator("[data-testid=round-enclosure]", has_text=code).click()
        page.wait_for_url("**/round/enclosures/*")
        cards = page.locator("[data-testid=task]")
        for task_id in [int(i.removeprefix("task-")) for i in cards.evaluate_all("cs => cs.map(c => c.id)")]:
            card = page.locator(f"#task-{task_id}")
            expect(card).to_have_attribute("data-state", re.compile("^(due|overdue)$"))
            if task_id in amounts:
                _feed(card, amounts[task_id])
            elif task_id == clean.id:
                card.locator(".btn-done").click()
            else:
                assert task_id == weigh.id
                _weigh(page, card)
            expect(card).to_have_attribute("data-state", "done")
        expect(page.locator("[data-testid=round-count]")).to_contain_text("0 to do")
        page.click("[data-testid=back-to-round]")
        page.wait_for_url("**/round")

    expect(page.locator("[data-testid=round-count]")).to_have_text(re.compile(r"^\s*0 to do · 10 done\s*$"))
    for code in ("P-1", "P-2", "R-1"):
        page.locator("[data-testid=round-enclosure]", has_text=code).click()
        cards = page.locator("[data-testid=task]")
        expect(cards.first).to_be_visible()
        for n in range(cards.count()):
            expect(cards.nth(n)).to_have_attribute("data-state", "done")
        page.go_back()

    # Each fed animal's record tells the feeding and what was eaten.
    for animal, amount in zip(animals, AMOUNTS, strict=True):
        page.goto(f"/animals/{animal.id}")
        feeding = page.locator("[data-testid=timeline-entry]", has_text="Feeding")
        expect(feeding).to_have_count(1)
        expect(feeding).to_contain_text(f"eaten: {AMOUNT_LABELS[amount]}")

    page.goto(f"/animals/{weighed.id}")
    expect(page.locator("[data-testid=timeline-entry]", has_text="Weighed: 2450.5 g")).to_have_count(1)
    expect(page.locator("[data-testid=weights]")).to_contain_text("2450.5 g")
    expect(page.locator("[data-testid=weights]")).to_contain_text("BCS 5")
