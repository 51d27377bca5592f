"""A seizure recorded in a real browser at 1024×768: case, intake table, animals list, the macaque's record."""

import re

import pytest

from tests import factories

pytestmark = pytest.mark.browser


def _page_is_stub(page, path: str) -> bool:
    """The animals list and record are built in another module; until then they answer "todo"."""
    return page.request.get(path).text().strip() == "todo"


def test_coordinator_records_a_seizure_of_three_species(page, live_db):
    facility = factories.FacilityFactory(code="PTK", name="Phnom Tamao")
    factories.UserFactory(email="coord@example.org", name="Dara", role="coordinator", facilities=[facility])
    factories.SpeciesFactory(scientific_name="Cuora amboinensis", common_name_en="Amboina box turtle",
                             taxon_class="reptile")
    factories.SpeciesFactory(scientific_name="Macaca fascicularis", common_name_en="Long-tailed macaque")
    factories.SpeciesFactory(scientific_name="Manis javanica", common_name_en="Sunda pangolin",
                             common_name_km="សត្វលលក")
    quarantine = factories.EnclosureFactory(facility=facility, code="Q-1", name="Quarantine 1", is_quarantine=True)
    live_db.session.commit()

    page.goto("/login")
    page.fill("input[name=email]", "coord@example.org")
    page.fill("input[name=password]", factories.DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")

    page.goto("/cases")
    page.click("text=Record a seizure")
    page.fill("input[name=occurred_at]", "2026-11-20T06:30")
    page.select_option("select[name=source]", "customs_seizure")
    page.fill("input[name=agency]", "Customs")
    page.fill("input[name=province]", "Koh Kong")
    page.click("[data-testid=save-case]")
    page.wait_for_url(re.compile(r".*/cases/\d+/intake$"))
    case_url = page.url.removesuffix("/intake")

    rows = page.locator("#intake-rows tr.intake-row")
    assert rows.count() == 5
    page.click("#add-row")
    assert rows.count() == 6
    rows.nth(5).locator(".remove-row").click()
    assert rows.count() == 5

    # Typed names: the turtle by its English name, the macaque picked from the list, the pangolin in Khmer.
    turtle = rows.nth(0)
    turtle.locator("[data-field=species]").fill("Amboina box turtle")
    turtle.locator("[data-field=quantity]").fill("50")
    turtle.locator("[data-field=enclosure]").select_option(str(quarantine.id))
    macaque = rows.nth(1)
    macaque.locator("[data-field=species]").press_sequentially("macaq", delay=30)
    # The list of species is filled by htmx as one types; picking an option puts its text in the box.
    page.locator("#species-options option").first.wait_for(state="attached")
    macaque.locator("[data-field=species]").fill("Long-tailed macaque — Macaca fascicularis")
    macaque.locator("[data-field=sex]").select_option("female")
    macaque.locator("[data-field=name]").fill("Sophea")
    macaque.locator("[data-field=identifiers]").fill("microchip:985112000123456")
    macaque.locator("[data-field=enclosure]").select_option(str(quarantine.id))
    rows.nth(2).locator("[data-field=species]").fill("សត្វលលក")
    page.click("[data-testid=admit]")
    page.wait_for_url(case_url)
    assert "3 records, 52 animals admitted." in page.content()

    table = page.locator("[data-testid=case-animals]")
    for name in ("Amboina box turtle", "Long-tailed macaque", "Sunda pangolin"):
        assert table.locator("tr", has_text=name).count() == 1
    macaque_number = table.locator("tr", has_text="Long-tailed macaque").locator("a").first.inner_text()

    if _page_is_stub(page, "/animals"):
        pytest.skip("the animals list (animals.animal_list) is still a stub; checked on the case page instead")
    page.goto("/animals")
    for name in ("Amboina box turtle", "Long-tailed macaque", "Sunda pangolin"):
        assert page.locator("table tr", has_text=name).count() >= 1
    page.locator("a", has_text=macaque_number).first.click()
    page.wait_for_url(re.compile(r".*/animals/\d+$"))
    timeline = page.locator("[data-testid=timeline]")
    assert "Admitted" in timeline.inner_text()
