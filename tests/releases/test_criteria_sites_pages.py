"""The release pages: checklists and their edit, sites, an assessment, the releasability decision, the record.

Each page for each role (viewers read, keepers assess, coordinators change checklists,
sites and decisions); refused input re-renders the form with the message and what was
typed; a stale edit is a 409; the record's readiness panel costs the same queries
whatever the number of assessments.
"""

import re
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.animals.models import Releasability
from app.animals.outcomes import record_outcome
from app.common.db import utcnow
from app.releases.models import Assessment, ReleaseCriterion, ReleaseSite, Transfer
from tests import factories
from tests.reference import error_next_to
from tests.releases.conftest import MACAQUE_MANUAL, assess, weigh

ZONE = ZoneInfo("Asia/Phnom_Penh")


def _count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _criterion(db, key, taxon_class="mammal") -> ReleaseCriterion:
    return db.session.execute(select(ReleaseCriterion).where(
        ReleaseCriterion.key == key, ReleaseCriterion.taxon_class == taxon_class)).scalar_one()


def _readiness_state(html: str) -> str:
    match = re.search(r'data-testid="readiness-state" data-ready="(yes|no)"', html)
    assert match, "no readiness panel"
    return match.group(1)


@pytest.fixture
def almost_ready(db, facility, criteria):
    """A macaque meeting every mammal criterion but climbs_well, never assessed."""
    case = factories.CaseFactory(facility=facility)
    macaque = factories.AnimalFactory(case=case, name="Bopha", admitted_at=utcnow() - timedelta(days=90),
                                      quarantine_cleared_on=(utcnow() - timedelta(days=30)).date())
    weigh(macaque, 5000, bcs=5)
    for key in MACAQUE_MANUAL[:2]:
        assess(macaque, key)
    db.session.commit()
    return macaque


# --- checklists ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["viewer", "keeper", "vet"])
def test_everyone_reads_the_checklists_but_only_coordination_changes_them(client, login, db, criteria, role):
    login(role)
    page = client.get("/release-criteria")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('data-testid="checklist"') == 3  # mammal, bird, reptile
    assert "forages_natural_food" in html and "Finds and eats natural food" in html
    assert 'data-testid="criterion-form"' not in html and "/edit" not in html
    before = _count(db, ReleaseCriterion)
    response = client.post_form("/release-criteria", {"taxon_class": "bird", "kind": "manual", "key": "sings",
                                                      "label": "Sings", "expires_days": "30"})
    assert response.status_code == 403
    criterion = _criterion(db, "avoids_humans")
    assert client.get(f"/release-criteria/{criterion.id}/edit").status_code == 403
    response = client.post_form(f"/release-criteria/{criterion.id}/edit",
                                {"label": "Hacked", "expires_days": "1", "version": str(criterion.version)})
    assert response.status_code == 403
    assert _count(db, ReleaseCriterion) == before
    assert _criterion(db, "avoids_humans").label == "Avoids people (flees or hides)"


def test_the_checklists_by_taxon_class(client, login, db, criteria):
    species = factories.SpeciesFactory(taxon_class="reptile", common_name_en="Elongated tortoise")
    db.session.add(ReleaseCriterion(species_id=species.id, key="feeds_unassisted", kind="manual",
                                    label="Eats leaves on its own", tests=[], expires_days=14))
    db.session.commit()
    login("viewer")
    html = client.get("/release-criteria?taxon_class=reptile").get_data(as_text=True)
    assert html.count('data-testid="checklist"') == 2
    assert "Elongated tortoise" in html and "Eats leaves on its own" in html
    assert "Sustained flight" not in html
    assert client.get("/release-criteria?taxon_class=dragons").status_code == 200


def test_a_coordinator_adds_a_criterion_for_a_class_and_for_a_species(client, login, db, criteria):
    species = factories.SpeciesFactory(taxon_class="mammal", common_name_en="Pileated gibbon",
                                       scientific_name="Hylobates pileatus")
    db.session.commit()
    login("coordinator")
    html = client.get("/release-criteria").get_data(as_text=True)
    assert 'data-testid="criterion-form"' in html and "Pileated gibbon — Hylobates pileatus" in html

    response = client.post_form("/release-criteria", {
        "species": "", "taxon_class": "bird", "kind": "auto", "key": "lab_negative",
        "tests": "avian influenza PCR, Chlamydia psittaci PCR"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/release-criteria")
    lab = _criterion(db, "lab_negative", "bird")
    assert lab.kind == "auto" and lab.tests == ["avian influenza PCR", "Chlamydia psittaci PCR"]

    response = client.post_form("/release-criteria", {
        "species": "Hylobates pileatus", "kind": "manual", "key": "Brachiates well", "label": "Swings arm over arm",
        "expires_days": "21"})
    assert response.status_code == 302
    own = db.session.execute(select(ReleaseCriterion).where(ReleaseCriterion.species_id == species.id)).scalar_one()
    assert (own.key, own.label, own.expires_days, own.taxon_class) == ("brachiates_well", "Swings arm over arm", 21,
                                                                        None)

    response = client.post_form("/release-criteria", {
        "species": str(species.id), "kind": "auto", "key": "min_weight", "min_weight_g": "5500", "min_bcs": "6"})
    assert response.status_code == 302
    weight = db.session.execute(select(ReleaseCriterion).where(ReleaseCriterion.species_id == species.id,
                                                               ReleaseCriterion.key == "min_weight")).scalar_one()
    assert (weight.min_weight_g, weight.min_bcs) == (Decimal("5500"), 6)
    html = client.get("/release-criteria").get_data(as_text=True)
    assert "Pileated gibbon" in html and "Swings arm over arm" in html
    assert "at least 5500 g or body condition at least 6" in html


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"species": "Unicornus", "kind": "manual", "key": "flies", "label": "Flies"}, "species", "Unknown species"),
    ({"species": "", "taxon_class": "", "kind": "manual", "key": "flies", "label": "Flies"}, "species",
     "Choose a species or a taxon class, not both."),
    ({"taxon_class": "bird", "kind": "auto", "key": "flies_well", "label": "Flies"}, "key",
     "An automatic criterion is one of: "),
    ({"taxon_class": "bird", "kind": "manual", "key": "flies_well", "label": "Flies"}, "key",
     "This checklist already has a criterion flies_well."),
    ({"taxon_class": "bird", "kind": "manual", "key": "sings", "label": ""}, "label", "Say what the assessor checks."),
    ({"taxon_class": "bird", "kind": "auto", "key": "min_weight", "min_bcs": "12"}, "min_bcs",
     "A whole number from 1 to 9."),
    ({"taxon_class": "bird", "kind": "auto", "key": "min_weight", "min_weight_g": "heavy"}, "min_weight_g", None),
    ({"taxon_class": "bird", "kind": "auto", "key": "lab_negative", "tests": ""}, "tests",
     "Name the tests that must be negative."),
])
def test_a_refused_criterion_keeps_what_was_typed(client, login, db, criteria, data, field, message):
    login("coordinator")
    before = _count(db, ReleaseCriterion)
    response = client.post_form("/release-criteria", {"notes": "", **data})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    if message is not None:
        assert re.search(rf'name="{field}"(?:(?!<div class="mb-3).)*?invalid-feedback[^>]*>{re.escape(message)}',
                         html, re.S), html[-4000:]
    else:
        assert 'is-invalid" id="min_weight_g"' in html or 'id="min_weight_g" name="min_weight_g"' in html
    for name, value in data.items():
        if value and name not in ("kind", "taxon_class"):
            assert f'value="{value}"' in html, f"{name} not kept"
    assert html.count('data-testid="checklist"') == 3, "the list is shown with the form"
    assert _count(db, ReleaseCriterion) == before


def test_a_coordinator_edits_a_criterion_and_a_stale_edit_is_a_conflict(client, login, db, criteria):
    criterion = _criterion(db, "no_recent_medication")
    version = criterion.version
    login("coordinator")
    page = client.get(f"/release-criteria/{criterion.id}/edit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="days"' in html and 'value="14"' in html and f'name="version" type="hidden" value="{version}"' in html

    response = client.post_form(f"/release-criteria/{criterion.id}/edit",
                                {"days": "21", "is_active": "y", "version": str(version)})
    assert response.status_code == 302
    db.session.expire_all()
    criterion = _criterion(db, "no_recent_medication")
    assert criterion.days == 21 and criterion.is_active and criterion.version == version + 1

    # Someone loaded the form before that save: their edit is a conflict, nothing saved, what they typed kept.
    response = client.post_form(f"/release-criteria/{criterion.id}/edit",
                                {"days": "7", "version": str(version)})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'data-testid="conflict"' in html and 'value="7"' in html
    assert f'name="version" type="hidden" value="{version + 1}"' in html
    db.session.expire_all()
    assert _criterion(db, "no_recent_medication").days == 21

    # Switched off, with a bad value refused first.
    response = client.post_form(f"/release-criteria/{criterion.id}/edit", {"days": "400", "version": str(version + 1)})
    assert response.status_code == 422
    assert error_next_to(response.get_data(as_text=True), "days", "A whole number from 0 to 365.")
    response = client.post_form(f"/release-criteria/{criterion.id}/edit", {"days": "21", "version": str(version + 1)})
    assert response.status_code == 302
    db.session.expire_all()
    assert not _criterion(db, "no_recent_medication").is_active
    assert client.get("/release-criteria/999999/edit").status_code == 404


# --- sites -----------------------------------------------------------------------------------

def test_site_coordinates_are_shown_only_to_coordination(client, login, db, site):
    db.session.add(site)
    db.session.commit()
    login("vet")
    html = client.get("/release-sites").get_data(as_text=True)
    assert "Phnom Kulen" in html and "Evergreen forest" in html
    assert "13.58" not in html and "104.11" not in html and 'data-testid="site-coordinates"' not in html
    assert client.get("/release-sites/new").status_code == 403
    assert client.get(f"/release-sites/{site.id}/edit").status_code == 403
    response = client.post_form("/release-sites/new", {"name": "Sneaky"})
    assert response.status_code == 403


def test_a_coordinator_sees_the_coordinates(client, login, db, site):
    db.session.add(site)
    db.session.commit()
    login("coordinator")
    html = client.get("/release-sites").get_data(as_text=True)
    assert 'data-testid="site-coordinates">13.58, 104.11' in html


def test_a_coordinator_creates_and_edits_a_site(client, login, db, site):
    db.session.add(site)
    db.session.commit()
    login("coordinator")
    page = client.get("/release-sites/new")
    assert page.status_code == 200 and 'name="suitable_taxa"' in page.get_data(as_text=True)
    response = client.post_form("/release-sites/new", {
        "name": "Prey Lang", "protected_area": "Prey Lang Wildlife Sanctuary", "province": "Kampong Thom",
        "latitude": "12.9", "longitude": "105.5", "habitat": "Lowland evergreen forest",
        "suitable_taxa": ["mammal", "bird"], "notes": "Ranger station at the east gate."})
    assert response.status_code == 302 and response.headers["Location"].endswith("/release-sites")
    new = db.session.execute(select(ReleaseSite).where(ReleaseSite.name == "Prey Lang")).scalar_one()
    assert new.suitable_taxa == ["mammal", "bird"] and new.latitude == Decimal("12.9")

    # Refused: the name is taken and the latitude out of range; what was typed is kept.
    response = client.post_form("/release-sites/new", {"name": "Phnom Kulen", "latitude": "95", "longitude": "104",
                                                       "suitable_taxa": ["reptile"], "habitat": "Cardamom hills"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_next_to(html, "name", "Another site has this name.")
    assert error_next_to(html, "latitude", "Between -90 and 90 degrees.")
    assert 'value="95"' in html and "Cardamom hills" in html
    assert re.search(r'checked[^>]*value="reptile"|value="reptile"[^>]*checked', html)

    page = client.get(f"/release-sites/{new.id}/edit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'value="12.9"' in html
    version = new.version
    response = client.post_form(f"/release-sites/{new.id}/edit", {
        "name": "Prey Lang", "latitude": "", "longitude": "", "suitable_taxa": ["reptile"], "is_active": "y",
        "version": str(version)})
    assert response.status_code == 302
    db.session.expire_all()
    new = db.session.get(ReleaseSite, new.id)
    assert new.latitude is None and new.suitable_taxa == ["reptile"] and new.protected_area == ""
    response = client.post_form(f"/release-sites/{new.id}/edit", {"name": "Prey Lang North", "version": str(version)})
    assert response.status_code == 409 and 'data-testid="conflict"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ReleaseSite, new.id).name == "Prey Lang"


# --- an assessment, the record ---------------------------------------------------------------

def test_a_keeper_records_a_pass_and_the_record_shows_the_animal_ready(client, login, db, almost_ready):
    keeper = login("keeper")
    record = client.get(f"/animals/{almost_ready.id}").get_data(as_text=True)
    assert _readiness_state(record) == "no"
    assert "Not assessed yet: Climbs and moves normally." in record
    assert f"/animals/{almost_ready.id}/assessments/new?criterion=climbs_well" in record
    assert 'data-testid="decide"' not in record, "a keeper does not decide releasability"

    page = client.get(f"/animals/{almost_ready.id}/assessments/new?criterion=climbs_well")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'<option selected value="climbs_well">|<option value="climbs_well" selected', html)
    today = utcnow().astimezone(ZONE).date().isoformat()
    assert f'value="{today}T' in html and 'value="pass"' in html and 'value="fail"' in html

    local = (utcnow() - timedelta(minutes=20)).astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")
    response = client.post_form(f"/animals/{almost_ready.id}/assessments/new", {
        "criterion": "climbs_well", "assessed_at": local, "notes": "Up the fig tree in seconds.", "result": "pass"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/animals/{almost_ready.id}")
    db.session.expire_all()
    assessment = db.session.execute(select(Assessment).where(Assessment.animal_id == almost_ready.id,
                                                             Assessment.criterion_key == "climbs_well")).scalar_one()
    assert assessment.result == "pass" and assessment.assessed_by_id == keeper.id
    assert assessment.assessed_at.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M") == local
    assert assessment.expires_at == assessment.assessed_at + timedelta(days=30)

    record = client.get(f"/animals/{almost_ready.id}").get_data(as_text=True)
    assert _readiness_state(record) == "yes"
    assert "Assessed climbs_well: pass" in record and "Up the fig tree in seconds." in record
    assert keeper.name in record


def test_an_assessment_without_a_result_or_in_the_future_is_refused(client, login, db, almost_ready):
    login("vet")
    response = client.post_form(f"/animals/{almost_ready.id}/assessments/new",
                                {"criterion": "climbs_well", "notes": "Hesitant on thin branches."})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Pass or fail." in html and "Hesitant on thin branches." in html
    later = (utcnow() + timedelta(hours=3)).astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")
    response = client.post_form(f"/animals/{almost_ready.id}/assessments/new",
                                {"criterion": "climbs_well", "assessed_at": later, "result": "fail"})
    assert response.status_code == 422
    assert error_next_to(response.get_data(as_text=True), "assessed_at", "This time is in the future.")
    response = client.post_form(f"/animals/{almost_ready.id}/assessments/new",
                                {"criterion": "quarantine_cleared", "result": "pass"})
    assert response.status_code == 422
    assert "Not one of this animal&#39;s manual criteria" in response.get_data(as_text=True)
    assert _count(db, Assessment, Assessment.criterion_key == "climbs_well") == 0


def test_a_viewer_may_not_assess(client, login, db, almost_ready):
    login("viewer")
    assert client.get(f"/animals/{almost_ready.id}/assessments/new").status_code == 403
    assert client.post_form(f"/animals/{almost_ready.id}/assessments/new",
                            {"criterion": "climbs_well", "result": "pass"}).status_code == 403
    assert _count(db, Assessment, Assessment.criterion_key == "climbs_well") == 0


def test_a_keeper_of_another_facility_gets_404(client, login, db, almost_ready, make_user, other_facility):
    login(make_user("keeper", facilities=[other_facility]))
    assert client.get(f"/animals/{almost_ready.id}/assessments/new").status_code == 404
    assert client.post_form(f"/animals/{almost_ready.id}/assessments/new",
                            {"criterion": "climbs_well", "result": "pass"}).status_code == 404
    assert _count(db, Assessment, Assessment.criterion_key == "climbs_well") == 0


def test_a_released_animal_has_nothing_to_assess(client, login, db, ready_macaque):
    record_outcome(ready_macaque, kind="released", count=None, occurred_at=utcnow() - timedelta(days=1), user=None)
    db.session.commit()
    login("keeper")
    html = client.get(f"/animals/{ready_macaque.id}").get_data(as_text=True)
    assert 'data-testid="released-on"' in html and "Released on" in html
    assert 'data-testid="assess"' not in html and 'data-testid="readiness-state"' not in html
    assert "<strong>Released</strong>" in html, "the release is on the timeline"
    page = client.get(f"/animals/{ready_macaque.id}/assessments/new")
    assert page.status_code == 200 and 'data-testid="left-care"' in page.get_data(as_text=True)
    response = client.post_form(f"/animals/{ready_macaque.id}/assessments/new",
                                {"criterion": "climbs_well", "result": "pass"})
    assert response.status_code == 422 and "has left care" in response.get_data(as_text=True)


def test_transfers_and_assessments_on_the_timeline(client, login, db, facility, other_facility, ready_macaque):
    db.session.add(Transfer(animal_id=ready_macaque.id, from_facility_id=other_facility.id,
                            to_facility_id=facility.id, transferred_at=utcnow() - timedelta(days=100),
                            reason="Closer to the release site"))
    db.session.commit()
    login("viewer")
    html = client.get(f"/animals/{ready_macaque.id}").get_data(as_text=True)
    assert "Transferred from KOH to PTK" in html and "Closer to the release site" in html
    assert "Assessed forages_natural_food: pass" in html


def test_escapes_and_transfers_out_of_a_lot_on_the_timeline(client, login, db, turtles):
    record_outcome(turtles, kind="escaped", count=2, occurred_at=utcnow() - timedelta(days=2), user=None,
                   notes="Gap under the fence")
    record_outcome(turtles, kind="transferred", count=5, occurred_at=utcnow() - timedelta(days=1), user=None,
                   institution="Angkor Centre for Conservation of Biodiversity", country="KH",
                   permit_numbers="CITES KH-2026-0042")
    db.session.commit()
    login("viewer")
    html = client.get(f"/animals/{turtles.id}").get_data(as_text=True)
    assert "Escaped: 2 animals" in html and "Gap under the fence" in html
    assert "Transferred out to Angkor Centre for Conservation of Biodiversity, KH: 5 animals" in html
    assert "Permits: CITES KH-2026-0042" in html
    assert _readiness_state(html) == "yes", "43 turtles are still in care and ready"


# --- releasability ---------------------------------------------------------------------------

def test_a_lifetime_resident_needs_a_reason(client, login, db, ready_macaque):
    db.session.commit()
    login("coordinator")
    record = client.get(f"/animals/{ready_macaque.id}").get_data(as_text=True)
    assert 'data-testid="decide"' in record and _readiness_state(record) == "yes"
    page = client.get(f"/animals/{ready_macaque.id}/releasability")
    assert page.status_code == 200
    version = ready_macaque.version

    response = client.post_form(f"/animals/{ready_macaque.id}/releasability",
                                {"releasability": "non_releasable", "releasability_reason": "  ",
                                 "version": str(version)})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_next_to(html, "releasability_reason", "Say why the animal can never be released.")
    assert re.search(r'checked[^>]*value="non_releasable"|value="non_releasable"[^>]*checked', html)
    db.session.expire_all()
    assert db.session.get(type(ready_macaque), ready_macaque.id).releasability == Releasability.UNDETERMINED

    response = client.post_form(f"/animals/{ready_macaque.id}/releasability",
                                {"releasability": "non_releasable", "releasability_reason": "Blind in both eyes",
                                 "version": str(version)})
    assert response.status_code == 302
    db.session.expire_all()
    animal = db.session.get(type(ready_macaque), ready_macaque.id)
    assert (animal.releasability, animal.releasability_reason) == ("non_releasable", "Blind in both eyes")
    record = client.get(f"/animals/{ready_macaque.id}").get_data(as_text=True)
    assert _readiness_state(record) == "no" and "Non-releasable: Blind in both eyes" in record

    # A decision made on a stale page is a conflict.
    response = client.post_form(f"/animals/{ready_macaque.id}/releasability",
                                {"releasability": "candidate", "version": str(version)})
    assert response.status_code == 409 and 'data-testid="conflict"' in response.get_data(as_text=True)
    response = client.post_form(f"/animals/{ready_macaque.id}/releasability",
                                {"releasability": "maybe", "version": str(animal.version)})
    assert response.status_code == 422


@pytest.mark.parametrize("role", ["keeper", "vet", "viewer"])
def test_only_coordination_decides_releasability(client, login, db, ready_macaque, role):
    db.session.commit()
    login(role)
    assert client.get(f"/animals/{ready_macaque.id}/releasability").status_code == 403
    response = client.post_form(f"/animals/{ready_macaque.id}/releasability",
                                {"releasability": "candidate", "version": str(ready_macaque.version)})
    assert response.status_code == 403


# --- the record's cost -----------------------------------------------------------------------

def test_the_record_costs_the_same_with_1_or_20_assessments(client, login, db, facility, criteria, count_queries):
    animals = []
    for n in (1, 20):
        animal = factories.AnimalFactory(case=factories.CaseFactory(facility=facility),
                                         admitted_at=utcnow() - timedelta(days=200),
                                         quarantine_cleared_on=utcnow().date())
        weigh(animal, 5000, bcs=5)
        for i in range(n):
            assess(animal, MACAQUE_MANUAL[i % 3], "pass" if i % 2 else "fail",
                   at=utcnow() - timedelta(days=150 - i))
        animals.append(animal)
    db.session.commit()
    login("coordinator")
    counts = []
    for animal in animals:
        client.get(f"/animals/{animal.id}")  # warm up (the session's user, translations)
        with count_queries() as counter:
            response = client.get(f"/animals/{animal.id}")
        assert response.status_code == 200 and 'data-testid="readiness-panel"' in response.get_data(as_text=True)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
