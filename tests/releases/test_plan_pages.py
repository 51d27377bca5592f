"""The release planning board and the plan pages: what they list, the whole flow by hand, who may do what.

The board costs the same number of queries for 1 and 50 candidates. A plan goes
through its pages as the team does it (a coordinator plans and approves, a vet signs
off, the coordinator records the release); a refused step shows the service's
message and keeps what was typed, and records nothing.
"""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.animals.models import Animal, AnimalStatus, Case, Outcome, OutcomeKind
from app.animals.outcomes import record_outcome
from app.auth.models import Facility
from app.common.db import utcnow
from app.reference.models import Species
from app.releases import plans
from app.releases.models import PlanStatus, ReleasePlan
from tests import factories
from tests.releases.conftest import MACAQUE_MANUAL, assess, weigh

ZONE = ZoneInfo("Asia/Phnom_Penh")


def _today():
    return utcnow().astimezone(ZONE).date()


def _text(response) -> str:
    return response.get_data(as_text=True)


def _section(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    end = html.find("</section>", start)
    return html[start:end]


def _plan_form(site, turtles, macaque, **extra) -> dict:
    return {"site_id": str(site.id), "planned_on": (_today() + timedelta(days=2)).isoformat(),
            "animal": [str(turtles.id), str(macaque.id)], f"count_{turtles.id}": "20",
            "notes": "Kulen north gate, 6 am", **extra}


@pytest.fixture
def stored(db, ready_macaque, turtles, site):
    """The ready macaque, the lot of 50 turtles and the site, committed as the pages read them."""
    db.session.commit()
    return ready_macaque, turtles, site


def _macaque_like(macaque, *, admitted_days_ago=120, cleared=True, weighed=True, assessed=MACAQUE_MANUAL,
                  enclosure=None, facility=None, **kwargs):
    animal = factories.AnimalFactory(
        case=factories.CaseFactory(facility=facility or _get(Facility, macaque.facility_id)),
        species=_get(Species, macaque.species_id),
        admitted_at=utcnow() - timedelta(days=admitted_days_ago), enclosure_id=enclosure.id if enclosure else None,
        quarantine_cleared_on=(utcnow() - timedelta(days=10)).date() if cleared else None, **kwargs)
    if weighed:
        weigh(animal, 5000, bcs=5)
    for key in assessed:
        assess(animal, key)
    return animal


def _get(model, key):
    from app.extensions import db

    return db.session.get(model, key)


def _plan_id(response) -> int:
    match = re.search(r"/release-plans/(\d+)$", response.headers["Location"])
    assert match, response.headers.get("Location")
    return int(match.group(1))


# --- the board ---------------------------------------------------------------------------------

def test_the_board_costs_the_same_queries_for_1_and_50_candidates(client, login, db, stored, facility,
                                                                   count_queries):
    macaque, turtles, site = stored
    turtles.status = AnimalStatus.RELEASED  # one candidate: the macaque
    turtles.quantity = 0
    db.session.commit()
    login("coordinator")
    assert client.get("/releases").status_code == 200
    with count_queries() as one:
        html = _text(client.get("/releases"))
    assert html.count('data-testid="ready-row"') == 1
    enclosure = factories.EnclosureFactory(facility=facility)
    lot_species = factories.SpeciesFactory(taxon_class="bird", common_name_en="Lesser adjutant")
    for n in range(49):
        if n % 3 == 0:  # ready, housed
            _macaque_like(macaque, enclosure=enclosure)
        elif n % 3 == 1:  # one short: not yet seen climbing
            _macaque_like(macaque, assessed=MACAQUE_MANUAL[:2])
        else:  # stalled lots of birds, never assessed
            factories.AnimalFactory(case=factories.CaseFactory(facility=facility), species=lot_species,
                                    intake_quantity=4, quantity=4, admitted_at=utcnow() - timedelta(days=200))
    plans.create_plan(site=site, planned_on=_today() + timedelta(days=5), user=None,
                      animals=[{"animal_id": macaque.id}])
    db.session.commit()
    with count_queries() as fifty:
        html = _text(client.get("/releases"))
    assert "50 animal records in care" in html
    assert html.count('data-testid="ready-row"') == 18 and html.count('data-testid="one-short-row"') == 16
    assert html.count('data-testid="stalled-row"') == 16
    assert one.count == fifty.count, f"{one}\n----\n{fifty}"


def test_the_board_sorts_ready_one_short_and_stalled(client, login, db, stored):
    macaque, turtles, _site = stored
    short = _macaque_like(macaque, assessed=MACAQUE_MANUAL[:2], name="Bopha")
    old = _macaque_like(macaque, admitted_days_ago=400, assessed=(), name="Chan")
    db.session.commit()
    login("coordinator")
    html = _text(client.get("/releases"))
    ready = _section(html, "board-ready")
    assert macaque.accession_number in ready and turtles.accession_number in ready
    assert f'href="/animals/{macaque.id}"' in ready
    assert re.search(r'data-testid="lot-size">50 of 50<', ready)
    assert f'name="animal" value="{macaque.id}"' in ready
    one_short = _section(html, "board-one-short")
    assert short.accession_number in one_short and macaque.accession_number not in one_short
    assert "Not assessed yet: Climbs and moves normally." in one_short
    stalled = _section(html, "board-stalled")
    assert old.accession_number in stalled and short.accession_number not in stalled
    assert re.search(r'data-testid="days-in-care">40\d<', stalled)
    assert 'action="/release-plans/new"' in html and "Plan a release" in html


def test_the_board_filters_by_facility_and_hides_ticks_from_those_who_do_not_plan(client, login, db, stored,
                                                                                  facility, other_facility):
    macaque, _turtles, _site = stored
    far = _macaque_like(macaque, facility=other_facility)
    db.session.commit()
    login("coordinator")
    html = _text(client.get(f"/releases?facility_id={facility.id}"))
    assert macaque.accession_number in html and far.accession_number not in html
    assert far.accession_number in _text(client.get(f"/releases?facility_id={other_facility.id}"))
    client.post_form("/logout")
    login("keeper")
    html = _text(client.get("/releases"))
    assert macaque.accession_number in html and far.accession_number not in html
    assert 'name="animal"' not in html and "Plan a release" not in html
    assert client.get(f"/releases?facility_id={other_facility.id}").status_code == 404
    assert 'href="/releases"' in html, "the navigation has a Releases entry"


# --- the whole flow through the pages -----------------------------------------------------------

def test_a_coordinator_plans_a_vet_signs_off_and_the_release_is_recorded(client, login, db, stored, facility):
    macaque, turtles, site = stored
    coordinator = login("coordinator")
    form_page = _text(client.get(f"/release-plans/new?animal={turtles.id}&animal={macaque.id}"))
    assert turtles.accession_number in form_page and macaque.accession_number in form_page
    assert f'name="count_{turtles.id}"' in form_page and "of 50" in form_page
    assert f'name="count_{macaque.id}"' not in form_page, "an individual goes whole"
    assert 'name="override_' not in form_page, "both are ready"
    assert f'<option value="{site.id}">Phnom Kulen' in form_page

    created = client.post_form("/release-plans/new", _plan_form(site, turtles, macaque))
    assert created.status_code == 302, _text(created)
    plan_id = _plan_id(created)
    detail = _text(client.get(f"/release-plans/{plan_id}"))
    assert "Draft" in detail and "20 of 50" in detail and "Waiting for a vet" in detail
    assert f"/release-plans/{plan_id}/signoff" not in detail, "coordinators do not sign off"
    assert f"/release-plans/{plan_id}/approve" not in detail, "not signed off yet"
    assert "13.58" in detail, "coordinators see the site's coordinates"
    client.post_form("/logout")

    vet = login("vet")
    detail = _text(client.get(f"/release-plans/{plan_id}"))
    assert f"/release-plans/{plan_id}/signoff" in detail and "13.58" not in detail
    assert client.get(f"/release-plans/{plan_id}/signoff").status_code == 200
    signed = client.post_form(f"/release-plans/{plan_id}/signoff", {"notes": "Both fit, turtles active"})
    assert signed.status_code == 302
    assert vet.name in _text(client.get(f"/release-plans/{plan_id}"))
    client.post_form("/logout")

    login(coordinator)
    no_permit = client.post_form(f"/release-plans/{plan_id}/approve", {"permit_reference": " "})
    assert no_permit.status_code == 422 and "Give the authority&#39;s permit reference." in _text(no_permit)
    approved = client.post_form(f"/release-plans/{plan_id}/approve", {"permit_reference": "MAFF-REL-2026-014"})
    assert approved.status_code == 302
    detail = _text(client.get(f"/release-plans/{plan_id}"))
    assert "Permit MAFF-REL-2026-014" in detail and f"/release-plans/{plan_id}/complete" in detail
    page = _text(client.get(f"/release-plans/{plan_id}/complete"))
    assert f'value="{_today().isoformat()}"' in page
    done = client.post_form(f"/release-plans/{plan_id}/complete", {"completed_on": _today().isoformat()})
    assert done.status_code == 302

    detail = _text(client.get(f"/release-plans/{plan_id}"))
    assert "Completed" in detail and 'data-testid="survival-released">21<' in detail
    record = _text(client.get(f"/animals/{turtles.id}"))
    assert "30 in care / 50 at intake" in record
    db.session.expire_all()
    assert _get(Animal, macaque.id).status == AnimalStatus.RELEASED
    listing = _text(client.get("/release-plans?status=completed"))
    assert listing.count('data-testid="plan-row"') == 1 and 'data-testid="released">21<' in listing


def test_a_hold_at_creation_names_the_case_and_keeps_what_was_typed(client, login, db, stored):
    macaque, turtles, site = stored
    case = _get(Case, macaque.case_id)
    case.evidence_hold, case.evidence_hold_since = True, utcnow()
    db.session.commit()
    login("coordinator")
    form = _plan_form(site, turtles, macaque, notes="Typed before the hold was known")
    response = client.post_form("/release-plans/new", form)
    html = _text(response)
    assert response.status_code == 409
    assert f"Case {case.reference} is under an evidence hold." in html and macaque.accession_number in html
    assert "Typed before the hold was known" in html
    assert f'name="count_{turtles.id}" id="count-{turtles.id}" value="20"' in html
    assert f'value="{form["planned_on"]}"' in html and f'<option selected value="{site.id}">' in html
    assert db.session.execute(select(func.count(ReleasePlan.id))).scalar_one() == 0


def test_an_animal_not_ready_needs_a_reason_shown_with_its_unmet_criteria(client, login, db, stored):
    macaque, _turtles, site = stored
    shy = _macaque_like(macaque, assessed=MACAQUE_MANUAL[:2])
    db.session.commit()
    login("coordinator")
    page = _text(client.get(f"/release-plans/new?animal={shy.id}"))
    assert f'name="override_{shy.id}"' in page and "Not assessed yet: Climbs and moves normally." in page
    body = {"site_id": str(site.id), "planned_on": (_today() + timedelta(days=1)).isoformat(), "animal": str(shy.id)}
    refused = client.post_form("/release-plans/new", body)
    assert refused.status_code == 422 and "give a reason to plan it anyway" in _text(refused)
    saved = client.post_form("/release-plans/new", {**body, f"override_{shy.id}": "Climbs in the soft-release cage"})
    assert saved.status_code == 302


def test_editing_a_draft_says_and_does_undo_the_signoff(client, login, db, stored, make_user):
    macaque, turtles, site = stored
    plan = plans.create_plan(site=site, planned_on=_today() + timedelta(days=3), user=None,
                             animals=[{"animal_id": turtles.id, "count": 20}, {"animal_id": macaque.id}])
    plans.vet_signoff(plan, user=make_user("vet"))
    db.session.commit()
    login("coordinator")
    page = _text(client.get(f"/release-plans/{plan.id}/edit"))
    assert "Saving a change undoes the sign-off" in page and 'value="20"' in page
    response = client.post_form(f"/release-plans/{plan.id}/edit", {"animal": str(turtles.id),
                                                                   "row": [str(turtles.id), str(macaque.id)],
                                                                   f"count_{turtles.id}": "25"})
    assert response.status_code == 302
    db.session.expire_all()
    plan = _get(ReleasePlan, plan.id)
    assert plan.vet_signoff_at is None
    detail = _text(client.get(f"/release-plans/{plan.id}"))
    assert "25 of 50" in detail and macaque.accession_number not in detail


def test_a_refused_completion_records_nothing(client, login, db, stored, make_user):
    macaque, turtles, site = stored
    vet = make_user("vet")
    plan = plans.create_plan(site=site, planned_on=_today() + timedelta(days=3), user=None,
                             animals=[{"animal_id": macaque.id}, {"animal_id": turtles.id, "count": 20}])
    plans.vet_signoff(plan, user=vet)
    plans.approve_plan(plan, user=None, permit_reference="P-9")
    record_outcome(turtles, kind=OutcomeKind.DIED, count=35, occurred_at=utcnow() - timedelta(hours=1), user=vet)
    db.session.commit()
    login("coordinator")
    response = client.post_form(f"/release-plans/{plan.id}/complete", {"completed_on": _today().isoformat()})
    assert response.status_code == 422
    assert f"{turtles.accession_number}: only 15 in care now." in _text(response)
    db.session.expire_all()
    assert _get(ReleasePlan, plan.id).status == PlanStatus.APPROVED
    assert _get(Animal, macaque.id).status == AnimalStatus.IN_CARE
    assert db.session.execute(select(func.count(Outcome.id)).where(Outcome.animal_id == macaque.id)).scalar_one() == 0


def test_a_cancelled_plan_shows_why_and_offers_no_step(client, login, db, stored):
    macaque, _turtles, site = stored
    plan = plans.create_plan(site=site, planned_on=_today() + timedelta(days=3), user=None,
                             animals=[{"animal_id": macaque.id}])
    db.session.commit()
    login("coordinator")
    assert client.post_form(f"/release-plans/{plan.id}/cancel", {"reason": "Road flooded"}).status_code == 302
    detail = _text(client.get(f"/release-plans/{plan.id}"))
    assert "Cancelled" in detail and "Road flooded" in detail
    assert f"/release-plans/{plan.id}/approve" not in detail and f"/release-plans/{plan.id}/cancel" not in detail
    again = client.post_form(f"/release-plans/{plan.id}/approve", {"permit_reference": "P-1"})
    assert again.status_code == 422 and "Only a draft plan can be changed" in _text(again)


# --- who may do what ------------------------------------------------------------------------------

WRITES = ("/release-plans/new", "/release-plans/{id}/edit", "/release-plans/{id}/signoff",
          "/release-plans/{id}/approve", "/release-plans/{id}/complete", "/release-plans/{id}/cancel")


def test_keepers_and_viewers_may_look_but_not_write(client, login, db, stored):
    macaque, _turtles, site = stored
    plan = plans.create_plan(site=site, planned_on=_today() + timedelta(days=3), user=None,
                             animals=[{"animal_id": macaque.id}])
    db.session.commit()
    for role in ("keeper", "viewer"):
        login(role)
        for path in ("/releases", "/release-plans", f"/release-plans/{plan.id}"):
            assert client.get(path).status_code == 200, (role, path)
        for path in WRITES:
            path = path.format(id=plan.id)
            assert client.get(path).status_code == 403, (role, path)
            assert client.post_form(path, {"reason": "x", "notes": "x"}).status_code == 403, (role, path)
        client.post_form("/logout")
    login("coordinator")
    assert client.post_form(f"/release-plans/{plan.id}/signoff", {}).status_code == 403, "vets sign off"
    client.post_form("/logout")
    login("vet")
    assert client.post_form(f"/release-plans/{plan.id}/cancel", {}).status_code == 403
    assert client.get("/release-plans/new").status_code == 403
    db.session.expire_all()
    assert _get(ReleasePlan, plan.id).status == PlanStatus.DRAFT


def test_a_plan_of_another_facility_is_not_found(client, login, db, stored, other_facility):
    macaque, _turtles, site = stored
    plan = plans.create_plan(site=site, planned_on=_today() + timedelta(days=3), user=None,
                             animals=[{"animal_id": macaque.id}])
    db.session.commit()
    login("vet", facilities=[other_facility])
    assert client.get(f"/release-plans/{plan.id}").status_code == 404
    assert client.get(f"/release-plans/{plan.id}/signoff").status_code == 404
    assert client.post_form(f"/release-plans/{plan.id}/signoff", {"notes": "x"}).status_code == 404
    assert 'data-testid="plan-row"' not in _text(client.get("/release-plans"))
    assert macaque.accession_number not in _text(client.get("/releases"))
    db.session.expire_all()
    assert _get(ReleasePlan, plan.id).vet_signoff_at is None
