"""Every route × every method × every role (and anonymous) against one expected-outcome table.

A route added without an entry here fails `test_every_route_is_in_the_table`. For
each entry, a role in the allowed set must not be refused (401/403, or a redirect
to the sign-in page); any other role must get 403, and anonymous callers a
redirect to sign in (pages) or 401 (API). Facility-scoped routes are also called
by a vet of another facility, who must get 404.
"""

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from PIL import Image

from app.alerts.models import Alert
from app.animals.attachments import add_attachment
from app.care import services as care_services
from app.care.models import CareTask, Weight
from app.common.db import utcnow
from app.releases.plans import create_plan
from app.releases.services import save_criterion, save_site
from app.vet import services as vet_services
from app.vet.deaths import record_death
from app.vet.prescriptions import prescribe
from app.vet.quarantine import add_quarantine_test
from tests import factories

ANONYMOUS = "anonymous"
ROLES = ("viewer", "keeper", "vet", "coordinator", "admin")  # admin last: its POSTs may delete the target
EVERYONE = frozenset({ANONYMOUS, *ROLES})
SIGNED_IN = frozenset(ROLES)
STAFF = frozenset({"keeper", "vet", "coordinator", "admin"})
CLINICAL = frozenset({"vet", "coordinator", "admin"})
COORDINATION = frozenset({"coordinator", "admin"})
ADMIN = frozenset({"admin"})
VETS = frozenset({"vet"})

# (method, endpoint) -> roles allowed. "scoped": a vet of another facility gets 404.
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "static"): EVERYONE,
    ("GET", "core.home"): SIGNED_IN,
    ("GET", "core.healthz"): EVERYONE,
    ("GET", "core.favicon"): EVERYONE,
    ("GET", "auth.login"): EVERYONE,
    ("POST", "auth.login"): EVERYONE,
    ("POST", "auth.logout"): SIGNED_IN,
    ("GET", "auth.change_password"): SIGNED_IN,
    ("POST", "auth.change_password"): SIGNED_IN,
    ("GET", "auth.api_tokens"): SIGNED_IN,
    ("POST", "auth.api_tokens"): SIGNED_IN,
    ("POST", "auth.revoke_api_token"): SIGNED_IN,
    ("GET", "admin.users"): ADMIN,
    ("GET", "admin.new_user"): ADMIN,
    ("POST", "admin.new_user"): ADMIN,
    ("GET", "admin.edit_user"): ADMIN,
    ("POST", "admin.edit_user"): ADMIN,
    ("POST", "admin.deactivate_user"): ADMIN,
    ("POST", "admin.reactivate_user"): ADMIN,
    ("GET", "admin.reset_password"): ADMIN,
    ("POST", "admin.reset_password"): ADMIN,
    ("GET", "admin.audit_log"): ADMIN,
    ("GET", "reference.facilities"): SIGNED_IN,
    ("GET", "reference.new_facility"): ADMIN,
    ("POST", "reference.new_facility"): ADMIN,
    ("GET", "reference.edit_facility"): ADMIN,
    ("POST", "reference.edit_facility"): ADMIN,
    ("GET", "reference.enclosures"): SIGNED_IN,
    ("GET", "reference.enclosure"): SIGNED_IN,
    ("GET", "reference.new_enclosure"): ADMIN,
    ("POST", "reference.new_enclosure"): ADMIN,
    ("GET", "reference.edit_enclosure"): ADMIN,
    ("POST", "reference.edit_enclosure"): ADMIN,
    ("POST", "reference.delete_enclosure"): ADMIN,
    ("GET", "reference.species_list"): SIGNED_IN,
    ("GET", "reference.species"): SIGNED_IN,
    ("GET", "reference.new_species"): ADMIN,
    ("POST", "reference.new_species"): ADMIN,
    ("GET", "reference.edit_species"): ADMIN,
    ("POST", "reference.edit_species"): ADMIN,
    ("POST", "reference.delete_species"): ADMIN,
    ("GET", "animals.attachment_file"): SIGNED_IN,
    ("GET", "animals.attachment_thumbnail"): SIGNED_IN,
    ("POST", "animals.upload_case_attachment"): STAFF,
    ("POST", "animals.upload_animal_attachment"): STAFF,
    ("POST", "api_attachments.upload_animal_photo"): STAFF,
    ("POST", "api_attachments.upload_case_photo"): STAFF,
    # Intake pages.
    ("GET", "animals.cases"): SIGNED_IN,
    ("GET", "animals.case_detail"): SIGNED_IN,
    ("GET", "animals.new_case"): COORDINATION,
    ("POST", "animals.new_case"): COORDINATION,
    ("GET", "animals.edit_case"): COORDINATION,
    ("POST", "animals.edit_case"): COORDINATION,
    ("POST", "animals.set_hold"): COORDINATION,
    ("POST", "animals.record_handover_page"): COORDINATION,
    ("GET", "animals.intake"): COORDINATION,
    ("POST", "animals.intake"): COORDINATION,
    ("GET", "animals.species_options"): COORDINATION,
    ("GET", "animals.import_animals"): COORDINATION,
    ("POST", "animals.import_animals"): COORDINATION,
    ("GET", "animals.import_template"): COORDINATION,
    ("GET", "animals.animal_list"): SIGNED_IN,
    ("GET", "animals.animal_record"): SIGNED_IN,
    ("GET", "animals.edit_animal"): COORDINATION,
    ("POST", "animals.edit_animal"): COORDINATION,
    ("GET", "animals.move_animal_page"): CLINICAL,
    ("POST", "animals.move_animal_page"): CLINICAL,
    ("POST", "animals.bulk_move"): CLINICAL,
    ("GET", "animals.split_animal_page"): CLINICAL,
    ("POST", "animals.split_animal_page"): CLINICAL,
    ("GET", "animals.housing"): SIGNED_IN,
    ("GET", "animals.enclosure_animals"): SIGNED_IN,
    ("GET", "animals.chain_of_custody"): SIGNED_IN,
    ("GET", "api-docs.openapi_json"): EVERYONE,
    ("POST", "api_auth.create_token"): EVERYONE,
    ("GET", "api_auth.list_tokens"): SIGNED_IN,
    ("DELETE", "api_auth.revoke_token"): SIGNED_IN,
    ("GET", "api_auth.me"): SIGNED_IN,
    ("GET", "api_facilities.list_facilities"): SIGNED_IN,
    ("POST", "api_facilities.create_facility"): ADMIN,
    ("GET", "api_facilities.get_facility"): SIGNED_IN,
    ("PATCH", "api_facilities.patch_facility"): ADMIN,
    ("GET", "api_enclosures.list_enclosures"): SIGNED_IN,
    ("POST", "api_enclosures.create_enclosure"): ADMIN,
    ("GET", "api_enclosures.get_enclosure"): SIGNED_IN,
    ("PATCH", "api_enclosures.patch_enclosure"): ADMIN,
    ("GET", "api_species.list_species"): SIGNED_IN,
    ("POST", "api_species.create_species"): ADMIN,
    ("GET", "api_species.get_species"): SIGNED_IN,
    ("PATCH", "api_species.patch_species"): ADMIN,
    ("GET", "api_cases.list_cases"): SIGNED_IN,
    ("POST", "api_cases.create_case"): COORDINATION,
    ("GET", "api_cases.get_case"): SIGNED_IN,
    ("PATCH", "api_cases.patch_case"): COORDINATION,
    ("POST", "api_cases.admit_animals"): COORDINATION,
    ("POST", "api_cases.set_evidence_hold"): COORDINATION,
    ("POST", "api_cases.review_evidence_hold"): COORDINATION,
    ("GET", "alerts.inbox"): STAFF,
    ("POST", "alerts.acknowledge"): STAFF,
    ("POST", "alerts.resolve"): STAFF,
    ("GET", "alerts.job_runs"): ADMIN,
    ("GET", "api_alerts.list_alerts"): STAFF,
    ("GET", "api_alerts.get_alert"): STAFF,
    ("POST", "api_alerts.acknowledge_alert"): STAFF,
    ("POST", "api_alerts.resolve_alert"): STAFF,
    ("GET", "api_job_runs.list_job_runs"): ADMIN,
    ("POST", "api_cases.record_handover"): COORDINATION,
    ("GET", "api_animals.list_animals"): SIGNED_IN,
    ("GET", "api_animals.get_animal"): SIGNED_IN,
    ("PATCH", "api_animals.patch_animal"): COORDINATION,
    ("POST", "api_animals.move_animal"): CLINICAL,
    ("POST", "api_animals.split_animal"): CLINICAL,
    ("GET", "api_animals.animal_timeline"): SIGNED_IN,
    ("GET", "care.round_page"): SIGNED_IN,
    ("GET", "care.round_enclosure"): SIGNED_IN,
    ("GET", "care.round_unhoused"): SIGNED_IN,
    ("POST", "care.complete_task"): STAFF,
    ("POST", "care.complete_enclosure"): STAFF,
    ("GET", "care.new_care_log"): STAFF,
    ("POST", "care.new_care_log"): STAFF,
    ("GET", "care.new_enclosure_log"): STAFF,
    ("POST", "care.new_enclosure_log"): STAFF,
    ("GET", "care.new_weight"): STAFF,
    ("POST", "care.new_weight"): STAFF,
    ("GET", "care.schedules"): CLINICAL,
    ("GET", "care.new_schedule"): CLINICAL,
    ("POST", "care.new_schedule"): CLINICAL,
    ("GET", "care.edit_schedule"): CLINICAL,
    ("POST", "care.edit_schedule"): CLINICAL,
    ("POST", "care.end_schedule"): CLINICAL,
    ("GET", "care.templates"): COORDINATION,
    ("GET", "care.new_template"): COORDINATION,
    ("POST", "care.new_template"): COORDINATION,
    ("GET", "care.edit_template"): COORDINATION,
    ("POST", "care.edit_template"): COORDINATION,
    ("GET", "api_care_schedules.list_schedules"): SIGNED_IN,
    ("POST", "api_care_schedules.create_schedule"): CLINICAL,
    ("GET", "api_care_schedules.get_schedule"): SIGNED_IN,
    ("PATCH", "api_care_schedules.patch_schedule"): CLINICAL,
    ("GET", "api_tasks.list_tasks"): SIGNED_IN,
    ("POST", "api_tasks.complete_task"): STAFF,
    ("GET", "api_care_records.list_care_logs"): SIGNED_IN,
    ("POST", "api_care_records.create_care_log"): STAFF,
    ("GET", "api_care_records.list_weights"): SIGNED_IN,
    ("POST", "api_care_records.create_weight"): STAFF,
    ("GET", "vet.dashboard"): CLINICAL,
    ("GET", "vet.new_exam"): VETS,
    ("POST", "vet.new_exam"): VETS,
    ("GET", "vet.new_problem"): VETS,
    ("POST", "vet.new_problem"): VETS,
    ("GET", "vet.edit_problem"): VETS,
    ("POST", "vet.edit_problem"): VETS,
    ("GET", "vet.new_prescription"): VETS,
    ("POST", "vet.new_prescription"): VETS,
    ("GET", "vet.stop_prescription"): VETS,
    ("POST", "vet.stop_prescription"): VETS,
    ("GET", "vet.new_lab_result"): VETS,
    ("POST", "vet.new_lab_result"): VETS,
    ("GET", "vet.record_lab_result"): VETS,
    ("POST", "vet.record_lab_result"): VETS,
    ("GET", "vet.record_death"): VETS,
    ("POST", "vet.record_death"): VETS,
    ("GET", "vet.record_euthanasia"): VETS,
    ("POST", "vet.record_euthanasia"): VETS,
    ("GET", "vet.add_necropsy"): VETS,
    ("POST", "vet.add_necropsy"): VETS,
    ("GET", "vet.clear_quarantine"): VETS,
    ("POST", "vet.clear_quarantine"): VETS,
    ("GET", "vet.quarantine_tests"): VETS,
    ("POST", "vet.quarantine_tests"): VETS,
    ("POST", "vet.remove_quarantine_test"): VETS,
    ("GET", "vet.authorise_euthanasia"): COORDINATION,
    ("POST", "vet.authorise_euthanasia"): COORDINATION,
    ("GET", "api_vet_records.list_exams"): SIGNED_IN,
    ("GET", "api_vet_records.list_problems"): SIGNED_IN,
    ("GET", "api_problems.get_problem"): SIGNED_IN,
    ("GET", "api_vet_records.list_prescriptions"): SIGNED_IN,
    ("GET", "api_prescriptions.get_prescription"): SIGNED_IN,
    ("GET", "api_vet_records.list_lab_results"): SIGNED_IN,
    ("GET", "api_vet_records.get_lab_result"): SIGNED_IN,
    ("POST", "api_vet_records.create_exam"): VETS,
    ("POST", "api_vet_records.create_problem"): VETS,
    ("PATCH", "api_problems.patch_problem"): VETS,
    ("POST", "api_vet_records.create_prescription"): VETS,
    ("POST", "api_prescriptions.stop_prescription"): VETS,
    ("POST", "api_vet_records.create_lab_result"): VETS,
    ("POST", "api_vet_records.record_lab_result"): VETS,
    ("POST", "api_vet_records.clear_quarantine"): VETS,
    ("POST", "api_vet_records.authorise_euthanasia"): COORDINATION,
    ("GET", "releases.board"): SIGNED_IN,
    ("GET", "releases.plans"): SIGNED_IN,
    ("GET", "releases.plan_detail"): SIGNED_IN,
    ("GET", "releases.new_plan"): COORDINATION,
    ("POST", "releases.new_plan"): COORDINATION,
    ("GET", "releases.edit_plan"): COORDINATION,
    ("POST", "releases.edit_plan"): COORDINATION,
    ("GET", "releases.signoff_plan"): VETS,
    ("POST", "releases.signoff_plan"): VETS,
    ("GET", "releases.approve_plan"): COORDINATION,
    ("POST", "releases.approve_plan"): COORDINATION,
    ("GET", "releases.complete_plan"): COORDINATION,
    ("POST", "releases.complete_plan"): COORDINATION,
    ("GET", "releases.cancel_plan"): COORDINATION,
    ("POST", "releases.cancel_plan"): COORDINATION,
    ("GET", "releases.transfer_animal"): COORDINATION,
    ("POST", "releases.transfer_animal"): COORDINATION,
    ("GET", "releases.transfer_out"): COORDINATION,
    ("POST", "releases.transfer_out"): COORDINATION,
    ("GET", "releases.record_escape"): COORDINATION,
    ("POST", "releases.record_escape"): COORDINATION,
    ("GET", "releases.new_observation"): STAFF,
    ("POST", "releases.new_observation"): STAFF,
    ("GET", "releases.criteria"): SIGNED_IN,
    ("POST", "releases.criteria"): COORDINATION,
    ("GET", "releases.edit_criterion"): COORDINATION,
    ("POST", "releases.edit_criterion"): COORDINATION,
    ("GET", "releases.sites"): SIGNED_IN,
    ("GET", "releases.new_site"): COORDINATION,
    ("POST", "releases.new_site"): COORDINATION,
    ("GET", "releases.edit_site"): COORDINATION,
    ("POST", "releases.edit_site"): COORDINATION,
    ("GET", "releases.new_assessment"): STAFF,
    ("POST", "releases.new_assessment"): STAFF,
    ("GET", "releases.releasability"): COORDINATION,
    ("POST", "releases.releasability"): COORDINATION,
    ("GET", "api_release_criteria.list_criteria"): SIGNED_IN,
    ("POST", "api_release_criteria.create_criterion"): COORDINATION,
    ("GET", "api_release_criteria.get_criterion"): SIGNED_IN,
    ("PATCH", "api_release_criteria.patch_criterion"): COORDINATION,
    ("GET", "api_animal_release.get_readiness"): SIGNED_IN,
    ("GET", "api_animal_release.list_assessments"): SIGNED_IN,
    ("POST", "api_animal_release.create_assessment"): STAFF,
    ("GET", "api_release_sites.list_sites"): SIGNED_IN,
    ("POST", "api_release_sites.create_site"): COORDINATION,
    ("GET", "api_release_sites.get_site"): SIGNED_IN,
    ("PATCH", "api_release_sites.patch_site"): COORDINATION,
    ("GET", "api_release_plans.list_plans"): SIGNED_IN,
    ("POST", "api_release_plans.create_plan"): COORDINATION,
    ("GET", "api_release_plans.get_plan"): SIGNED_IN,
    ("PATCH", "api_release_plans.patch_plan"): COORDINATION,
    ("POST", "api_release_plans.signoff_plan"): VETS,
    ("POST", "api_release_plans.approve_plan"): COORDINATION,
    ("POST", "api_release_plans.complete_plan"): COORDINATION,
    ("POST", "api_release_plans.cancel_plan"): COORDINATION,
    ("POST", "api_animal_release.create_outcome"): VETS,  # kind=died; transfers and escapes: COORDINATION
    ("POST", "api_animal_release.create_transfer"): COORDINATION,
    ("GET", "api_animal_release.list_observations"): SIGNED_IN,
    ("POST", "api_animal_release.create_observation"): STAFF,
}

# Routes whose records belong to a facility: another facility's vet gets 404.
SCOPED_ARGS = {"enclosure_id", "facility_id", "case_id", "animal_id", "attachment_id", "schedule_id", "task_id",
               "problem_id", "prescription_id", "lab_id", "outcome_id", "plan_id", "alert_id"}

# Valid bodies for API writes, so that the record lookup (404) is reached, not validation (422).
BODIES = {
    ("POST", "api_animals.move_animal"): lambda w: {"to_enclosure_id": w["other_enclosure_id"], "reason": "matrix"},
    ("POST", "api_animals.split_animal"): lambda w: {"quantity": 1},
    ("POST", "api_care_schedules.create_schedule"): lambda w: {"enclosure_id": w["enclosure_id"], "kind": "clean",
                                                               "times": ["09:00"]},
    ("PATCH", "api_care_schedules.patch_schedule"): lambda w: {"version": 1},
    ("POST", "api_tasks.complete_task"): lambda w: {"client_id": "matrix-complete-0001"},
    ("POST", "api_care_records.create_care_log"): lambda w: {"kind": "observe", "client_id": "matrix-care-log-0001"},
    ("POST", "api_care_records.create_weight"): lambda w: {"grams": 500},
    ("POST", "api_vet_records.create_exam"): lambda w: {"findings": "matrix"},
    ("POST", "api_vet_records.create_problem"): lambda w: {"diagnosis": "matrix"},
    ("PATCH", "api_problems.patch_problem"): lambda w: {"version": 1},
    ("POST", "api_vet_records.create_prescription"): lambda w: {"drug": "Meloxicam", "dose_mg_per_kg": 0.2,
                                                                 "route": "PO", "frequency": "SID", "days": 3},
    ("POST", "api_prescriptions.stop_prescription"): lambda w: {"reason": "matrix"},
    ("POST", "api_vet_records.create_lab_result"): lambda w: {"test": "matrix", "sampled_on": w["today"]},
    ("POST", "api_vet_records.record_lab_result"): lambda w: {"interpretation": "negative"},
    ("POST", "api_vet_records.authorise_euthanasia"): lambda w: {"reason": "matrix"},
    ("POST", "api_release_criteria.create_criterion"): lambda w: {"taxon_class": "bird", "key": "matrix_skill",
                                                                   "kind": "manual", "label": "Matrix"},
    ("PATCH", "api_release_criteria.patch_criterion"): lambda w: {"version": 1},
    ("POST", "api_animal_release.create_assessment"): lambda w: {"criterion": "avoids_humans", "result": "pass"},
    ("POST", "api_release_sites.create_site"): lambda w: {"name": "Matrix site 2"},
    ("PATCH", "api_release_sites.patch_site"): lambda w: {"version": 1},
    ("POST", "api_release_plans.create_plan"): lambda w: {
        "site_id": w["site_id"], "planned_on": w["later"],
        "animals": [{"animal_id": w["animal_id"], "quantity": 1, "override_reason": "matrix"}]},
    ("PATCH", "api_release_plans.patch_plan"): lambda w: {
        "version": 1, "animals": [{"animal_id": w["animal_id"], "quantity": 1, "override_reason": "matrix"}]},
    ("POST", "api_release_plans.signoff_plan"): lambda w: {"notes": "matrix"},
    ("POST", "api_release_plans.approve_plan"): lambda w: {"permit_reference": "MATRIX-1", "override_reason": "matrix"},
    ("POST", "api_release_plans.complete_plan"): lambda w: {"override_reason": "matrix"},
    ("POST", "api_release_plans.cancel_plan"): lambda w: {"reason": "matrix"},
    ("POST", "api_animal_release.create_outcome"): lambda w: {"kind": "died", "count": 1, "occurred_at": w["now"]},
    ("POST", "api_animal_release.create_transfer"): lambda w: {"to_facility_id": w["other_facility_id"], "count": 1},
    ("POST", "api_animal_release.create_observation"): lambda w: {"kind": "sighting", "observed_at": w["now"]},
}


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule


def test_every_route_is_in_the_table(app):
    found = {(method, rule.endpoint) for method, rule in _routes(app)}
    missing = sorted(found - set(EXPECTED))
    stale = sorted(set(EXPECTED) - found)
    assert not missing, f"routes without an expected outcome: {missing}"
    assert not stale, f"table entries for routes that do not exist: {stale}"


@pytest.fixture
def world(db, facility, other_facility):
    """One record of each kind at `facility`, to fill URL arguments."""
    enclosure = factories.EnclosureFactory(facility=facility)
    other_enclosure = factories.EnclosureFactory(facility=facility)
    case = factories.CaseFactory(facility=facility)
    animal = factories.AnimalFactory(case=case, enclosure_id=enclosure.id, intake_quantity=5)
    target = factories.UserFactory(role="keeper", facilities=[facility])
    token_owner = factories.UserFactory(role="viewer", facilities=[facility])
    from app.auth.tokens import create_token

    token, _plain = create_token(token_owner, "matrix")
    photo = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(photo, "PNG")
    photo.seek(0)
    attachment = add_attachment(photo, "matrix.png", animal=animal)
    schedule = care_services.create_schedule(animal=animal, user=None, kind="feed", times=["08:00"])
    template = care_services.save_template(None, {"taxon_class": "bird", "kind": "feed", "times": ["07:00"]})
    task = CareTask(facility_id=facility.id, animal_id=animal.id, kind="feed", due_at=utcnow())
    db.session.add(task)
    db.session.add(Weight(animal_id=animal.id, measured_at=utcnow(), grams=Decimal(900)))
    db.session.flush()
    problem = vet_services.add_problem(animal, user=None, diagnosis="Matrix wound")
    prescription, _warnings = prescribe(animal, user=None, drug="Meloxicam", dose_mg_per_kg=Decimal("0.2"),
                                        route="PO", frequency="SID", days=3)
    lab = vet_services.add_lab_result(animal, user=None, test="Faecal parasitology", sampled_on=utcnow().date())
    dead = factories.AnimalFactory(case=case, enclosure_id=enclosure.id, intake_quantity=3)
    outcome = record_death(dead, user=None, count=1, occurred_at=utcnow(), cause="Matrix")
    quarantine_test = add_quarantine_test(test="Matrix test", taxon_class="bird")
    site = save_site(None, {"name": "Matrix site", "latitude": "12.5", "longitude": "104.9"})
    criterion = save_criterion(None, {"taxon_class": "mammal", "key": "avoids_humans", "kind": "manual",
                                      "label": "Avoids people", "expires_days": 30})
    # Two days ahead: never "in the past" at the facility, whatever the hour in UTC.
    plan = create_plan(site=site, planned_on=utcnow().date() + timedelta(days=2), user=None,
                       animals=[{"animal_id": animal.id, "count": 1, "override_reason": "matrix"}])
    # A kind every staff role sees, so each one reaches the alert (or another facility's vet gets 404).
    alert = Alert(kind="weight_missing", severity="warning", dedup_key=f"weight_missing:{animal.id}:matrix",
                  facility_id=facility.id, animal_id=animal.id)
    db.session.add(alert)
    db.session.flush()
    return {
        "enclosure_id": enclosure.id, "other_enclosure_id": other_enclosure.id, "facility_id": facility.id,
        "species_id": animal.species_id, "case_id": case.id, "animal_id": animal.id, "user_id": target.id,
        "token_id": token.id, "attachment_id": attachment.id, "filename": "css/app.css",
        "schedule_id": schedule.id, "template_id": template.id, "task_id": task.id,
        "problem_id": problem.id, "prescription_id": prescription.id, "lab_id": lab.id, "outcome_id": outcome.id,
        "test_id": quarantine_test.id, "site_id": site.id, "criterion_id": criterion.id, "plan_id": plan.id,
        "alert_id": alert.id,
        "other_facility_id": other_facility.id, "now": utcnow().isoformat(), "today": utcnow().date().isoformat(),
        "later": (utcnow().date() + timedelta(days=2)).isoformat(),
    }


def _url(rule, values) -> str:
    path = rule.rule
    for argument in rule.arguments:
        path = re.sub(rf"<(?:[^:<>]+:)?{argument}>", str(values[argument]), path)
    return path


def _call(client, method, url, *, api, headers=None, body=None):
    headers = dict(headers or {})
    if method == "GET":
        return client.get(url, headers=headers)
    if api:
        if "Authorization" not in headers and method != "GET":
            headers["X-CSRFToken"] = client.csrf_token("/login")
        return client.open(url, method=method, json=body or {}, headers=headers)
    return client.open(url, method=method, data={"csrf_token": client.csrf_token("/login")}, headers=headers)


def _client_as(app, role, facility_user):
    client = app.test_client()
    headers = {}
    if role == ANONYMOUS:
        return client, headers
    user = facility_user(role)
    response = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": factories.DEFAULT_PASSWORD})
    headers["Authorization"] = f"Bearer {response.json['token']}"
    page_client = app.test_client()
    page_client.post_form("/login", {"email": user.email, "password": factories.DEFAULT_PASSWORD})
    return page_client, headers


def _refused(response) -> bool:
    if response.status_code in (401, 403):
        return True
    # The sign-in redirect of a protected page carries ?next=; signing out redirects without it.
    location = response.headers.get("Location", "")
    return response.status_code == 302 and "/login" in location and "next=" in location


@pytest.mark.parametrize(("method", "endpoint"), sorted(EXPECTED))
def test_route_outcome_for_every_role(app, client, world, make_user, other_facility, method, endpoint):
    rules = [rule for m, rule in _routes(app) if m == method and rule.endpoint == endpoint]
    assert rules, f"no route for {method} {endpoint}"
    rule = rules[0]
    url = _url(rule, world)
    api = rule.rule.startswith("/api/")
    allowed = EXPECTED[(method, endpoint)]
    body = BODIES[(method, endpoint)](world) if (method, endpoint) in BODIES else None
    for role in (ANONYMOUS, *ROLES):
        page_client, headers = _client_as(app, role, make_user)
        response = _call(page_client, method, url, api=api, headers=headers if api else None, body=body)
        if role in allowed:
            assert not _refused(response), f"{role} refused on {method} {url}: {response.status_code}"
            assert response.status_code < 500
        elif role == ANONYMOUS:
            expected = 401 if api else 302
            assert response.status_code == expected, f"anonymous got {response.status_code} on {method} {url}"
        else:
            assert response.status_code == 403, f"{role} got {response.status_code} on {method} {url}"

    scoped = SCOPED_ARGS & set(rule.arguments)
    if scoped and "vet" in allowed:
        outsider = lambda role: make_user(role, facilities=[other_facility])  # noqa: E731
        page_client, headers = _client_as(app, "vet", outsider)
        response = _call(page_client, method, url, api=api, headers=headers if api else None, body=body)
        assert response.status_code == 404, f"vet of another facility got {response.status_code} on {method} {url}"
