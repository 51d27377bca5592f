"""Release plan pages: the list, a new plan and its animals, a plan's page, its sign-off, approval, completion
and cancellation.

Every write goes through app.releases.plans (the functions the JSON API calls), is
committed here once, then POST/redirect/GET with a flash. A refused write is rolled
back, so nothing of it is kept (a refused completion records no outcome at all), and
the form is shown again with the service's messages and what was typed. An evidence
hold answers 409 naming the case. Plans of a facility the user may not see are 404.
"""

from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.auth.permissions import can, require
from app.common.db import utcnow
from app.common.form_flow import Outcome, arm_with_current_version, save
from app.common.pagination import paginate
from app.common.security import form_checks_csrf
from app.reference.queries import visible_facilities
from app.reference.views import page_arg, per_page_arg
from app.releases import plans, queries
from app.releases.forms_plans import (
    OBSERVATION_LABELS,
    STATUS_LABELS,
    AnimalRowsForm,
    ApproveForm,
    CancelForm,
    CompleteForm,
    PlanForm,
    PlanRow,
    RowSource,
    SignoffForm,
    accession_numbers,
    ids_of,
)
from app.releases.models import PlanStatus, ReleasePlan
from app.releases.monitoring import survival_summaries
from app.releases.readiness import readiness_of
from app.releases.services import HoldError
from app.releases.views import bp

OPEN = (PlanStatus.DRAFT, PlanStatus.APPROVED)


def _detail_url(plan_id: int) -> str:
    return url_for("releases.plan_detail", plan_id=plan_id)


def _save(form, write) -> tuple[Outcome, bool]:
    """save() of form_flow, telling also whether the refusal was an evidence hold (answered 409)."""
    held = []

    def guarded():
        try:
            write()
        except HoldError:
            held.append(True)
            raise

    return save(form, guarded), bool(held)


def _status(form, held: bool = False) -> int:
    if held:
        return 409
    has_errors = form.errors or form.form_errors or getattr(form, "animal_errors", None)
    return 422 if has_errors else 200


# --- the list ---------------------------------------------------------------------------------

@bp.get("/release-plans", endpoint="plans")
@require("release.view")
def plans_list():
    """Plans at the user's facilities by status, site and facility, latest planned day first."""
    status = request.args.get("status", "")
    status = status if status in set(PlanStatus) else ""
    site_id = request.args.get("site_id", type=int)
    facility_id = request.args.get("facility_id", type=int)
    page = paginate(queries.plans_stmt(status=status or None, site_id=site_id, facility_id=facility_id),
                    page_arg(), per_page_arg())
    counts = queries.plan_counts([p.id for p in page.items])
    survival = survival_summaries([p for p in page.items if p.status == PlanStatus.COMPLETED])
    return render_template("releases/plans.html", page=page, counts=counts, survival=survival, status=status,
                           site_id=site_id, facility_id=facility_id, sites=queries.all_sites(),
                           facilities=visible_facilities(), status_labels=STATUS_LABELS)


# --- the animals of a plan ---------------------------------------------------------------------

def _load_rows(form: AnimalRowsForm, source: RowSource, *, plan_id: int | None = None) -> list[int]:
    """The form's rows from the request (animals, readiness now, what is in other plans); returns the ids
    asked for that the user may not see (or that do not exist)."""
    animals = queries.animals_for_plan(source.shown)
    found = {a.id for a in animals}
    states = readiness_of(animals, utcnow())
    elsewhere = queries.planned_elsewhere(list(found), plan_id)
    form.rows = [PlanRow(animal=a, included=a.id in source.included, count=source.counts.get(a.id, ""),
                         override_reason=source.reasons.get(a.id, ""), readiness=states.get(a.id),
                         elsewhere=elsewhere.get(a.id, 0)) for a in animals]
    return [i for i in source.shown if i not in found]


def _add_typed_animals(form: AnimalRowsForm, source: RowSource) -> RowSource:
    """The animals typed in the "add" box join the rows (ticked); unknown numbers are said."""
    numbers = accession_numbers(form.add_accession.data)
    found = queries.animal_ids_by_accession(numbers)
    unknown = [n for n in numbers if n not in found]
    if unknown:
        form.add_accession.errors = [*form.add_accession.errors,
                                     _("No animal with these numbers: %(numbers)s.", numbers=", ".join(unknown))]
    for number in numbers:
        animal_id = found.get(number)
        if animal_id is not None and animal_id not in source.shown:
            source.shown.append(animal_id)
            source.included.add(animal_id)
    if not unknown:
        form.add_accession.data = ""
        form.add_accession.raw_data = [""]
    return source


def _default_counts(form: AnimalRowsForm) -> None:
    """A lot newly on the form goes whole (what is not in other plans) until the coordinator says otherwise."""
    for row in form.rows:
        if row.animal.is_lot and not row.count:
            row.count = str(row.free)


def _missing_message(missing: list[int]) -> str:
    return _("Some animals were not found or are not at your facilities (%(ids)s).",
             ids=", ".join(map(str, missing)))


def _site_choices(form: PlanForm) -> None:
    form.site_id.choices = [SelectChoice("", _("Choose a site")), *[
        SelectChoice(s.id, " · ".join(x for x in (s.name, s.protected_area, s.province) if x))
        for s in queries.active_sites()]]


def _plan_form_page(form, plan: ReleasePlan | None = None, *, status: int | None = None, conflict: bool = False):
    return render_template("releases/plan_form.html", form=form, plan=plan, conflict=conflict,
                           status_labels=STATUS_LABELS), status if status is not None else _status(form)


@bp.route("/release-plans/new", methods=["GET", "POST"])
@require("release.plan")
@form_checks_csrf
def new_plan():
    """A draft plan: a site, a day and animals (from the board's ticks: ?animal=ID&animal=ID)."""
    form = PlanForm()
    _site_choices(form)
    if request.method == "GET":
        ids = ids_of(request.args.getlist("animal"))
        source = RowSource(shown=ids, included=set(ids))
        missing = _load_rows(form, source)
        _default_counts(form)
        if missing:
            form.animal_errors.append(_missing_message(missing))
        return _plan_form_page(form, status=200)
    source = RowSource.from_post(request.form)
    if request.form.get("action") == "add":
        source = _add_typed_animals(form, source)
        _load_rows(form, source)
        _default_counts(form)
        return _plan_form_page(form, status=200)
    missing = _load_rows(form, source)
    valid = form.validate()
    held = False
    if missing:
        form.animal_errors.append(_missing_message(missing))
    site = queries.get_active_site(form.site_id.data)
    if site is None:
        form.site_id.errors = [*form.site_id.errors, _("Choose one of the active release sites.")]
    if valid and not missing and site is not None:
        created = {}

        def write():
            plan = plans.create_plan(site=site, planned_on=form.planned_on.data, animals=form.values(),
                                     user=current_user, notes=form.notes.data or "")
            created["id"] = plan.id

        outcome, held = _save(form, write)
        if outcome is Outcome.SAVED:
            flash(_("Release plan saved as a draft. A vet signs it off next."), "success")
            return redirect(_detail_url(created["id"]))
        _load_rows(form, source)  # the session was rolled back: read the animals anew
    return _plan_form_page(form, status=_status(form, held))


@bp.route("/release-plans/<int:plan_id>/edit", methods=["GET", "POST"])
@require("release.plan")
@form_checks_csrf
def edit_plan(plan_id: int):
    """Change a draft's animals and counts; the vet's sign-off is undone (a vet signs the new list off)."""
    plan = queries.get_plan(plan_id)
    form = AnimalRowsForm()
    if request.method == "GET":
        current = queries.plan_animals(plan.id)
        ids = [pa.animal_id for pa in current] + ids_of(request.args.getlist("animal"))
        source = RowSource(shown=ids_of([str(i) for i in ids]), included=set(ids),
                           counts={pa.animal_id: str(pa.count) for pa in current},
                           reasons={pa.animal_id: pa.override_reason for pa in current})
        form.version.data = plan.version
        missing = _load_rows(form, source, plan_id=plan.id)
        _default_counts(form)
        if missing:
            form.animal_errors.append(_missing_message(missing))
        return _plan_form_page(form, plan, status=200)
    source = RowSource.from_post(request.form)
    if request.form.get("action") == "add":
        source = _add_typed_animals(form, source)
        _load_rows(form, source, plan_id=plan.id)
        _default_counts(form)
        return _plan_form_page(form, plan, status=200)
    missing = _load_rows(form, source, plan_id=plan.id)
    valid = form.validate()
    if form.version.data is not None and form.version.data != plan.version:
        arm_with_current_version(form, plan)
        return _plan_form_page(form, plan, status=409, conflict=True)
    if missing:
        form.animal_errors.append(_missing_message(missing))
        valid = False
    held = False
    if valid:
        outcome, held = _save(form, lambda: plans.update_plan_animals(plan, form.values(), user=current_user))
        if outcome is Outcome.SAVED:
            flash(_("The plan's animals are changed. The vet's sign-off was undone: a vet signs the plan off "
                    "again."), "success")
            return redirect(_detail_url(plan_id))
        plan = queries.get_plan(plan_id)
        _load_rows(form, source, plan_id=plan.id)
        if outcome is Outcome.STALE:
            arm_with_current_version(form, plan)
            return _plan_form_page(form, plan, status=409, conflict=True)
    return _plan_form_page(form, plan, status=_status(form, held))


# --- a plan's page ----------------------------------------------------------------------------

def _plan_context(plan: ReleasePlan) -> dict:
    """What a plan's pages show: its animals (and readiness now, while the plan is open) and the people named."""
    rows = queries.plan_animals(plan.id)
    is_open = plan.status in OPEN
    states = readiness_of([r.animal for r in rows], utcnow()) if is_open else {}
    people = queries.users_by_id([plan.created_by_id, plan.completed_by_id, plan.cancelled_by_id])
    return {"plan": plan, "rows": rows, "readiness": states, "is_open": is_open,
            "unready": [states[r.animal_id] for r in rows if r.animal_id in states and not states[r.animal_id].ready],
            "people": people, "status_labels": STATUS_LABELS}


@bp.get("/release-plans/<int:plan_id>")
@require("release.view")
def plan_detail(plan_id: int):
    """A plan: site, day, status, animals and their readiness, sign-off, approval, and after release how they fare."""
    plan = queries.get_plan(plan_id)
    context = _plan_context(plan)
    survival = observations = None
    if plan.status == PlanStatus.COMPLETED:
        survival = survival_summaries([plan]).get(plan.id)
        observations = queries.plan_observations(plan.id)
    accessions = {r.animal_id: r.animal.accession_number for r in context["rows"]}
    return render_template("releases/plan_detail.html", survival=survival, observations=observations,
                           accessions=accessions, observation_labels=OBSERVATION_LABELS,
                           show_coordinates=can("restricted_fields.view"), **context)


# --- sign-off, approval, completion, cancellation ------------------------------------------------

def _action_page(plan: ReleasePlan, form, action: str, *, status: int, conflict: bool = False):
    return render_template("releases/plan_action.html", form=form, action=action, conflict=conflict,
                           **_plan_context(plan)), status


def _action(plan_id: int, form, action: str, write, done: str):
    """The GET and POST of one of a plan's steps: the form, then one service call committed once."""
    plan = queries.get_plan(plan_id)
    if request.method == "GET":
        form.version.data = plan.version
        return _action_page(plan, form, action, status=200)
    valid = form.validate()
    if form.version.data is not None and form.version.data != plan.version:
        arm_with_current_version(form, plan)
        return _action_page(plan, form, action, status=409, conflict=True)
    held = False
    if valid:
        outcome, held = _save(form, lambda: write(plan))
        if outcome is Outcome.SAVED:
            flash(done, "success")
            return redirect(_detail_url(plan_id))
        plan = queries.get_plan(plan_id)  # rolled back: nothing of the refused step is kept
        if outcome is Outcome.STALE:
            arm_with_current_version(form, plan)
            return _action_page(plan, form, action, status=409, conflict=True)
    return _action_page(plan, form, action, status=_status(form, held))


@bp.route("/release-plans/<int:plan_id>/signoff", methods=["GET", "POST"])
@require("release.signoff")
@form_checks_csrf
def signoff_plan(plan_id: int):
    """A vet signs the draft off as fit to go."""
    form = SignoffForm()
    return _action(plan_id, form, "signoff",
                   lambda plan: plans.vet_signoff(plan, user=current_user, notes=form.notes.data or ""),
                   _("You signed the plan off. A coordinator can approve it now."))


@bp.route("/release-plans/<int:plan_id>/approve", methods=["GET", "POST"])
@require("release.plan")
@form_checks_csrf
def approve_plan(plan_id: int):
    """A coordinator approves a signed-off draft with the authority's permit reference."""
    form = ApproveForm()
    return _action(plan_id, form, "approve",
                   lambda plan: plans.approve_plan(plan, user=current_user,
                                                   permit_reference=form.permit_reference.data or "",
                                                   override_reason=form.override_reason.data or ""),
                   _("The plan is approved."))


@bp.route("/release-plans/<int:plan_id>/complete", methods=["GET", "POST"])
@require("release.plan")
@form_checks_csrf
def complete_plan(plan_id: int):
    """The release happened: every planned animal gets its released outcome, or none does."""
    form = CompleteForm()
    if request.method == "GET":
        plan = queries.get_plan(plan_id)
        form.completed_on.data = utcnow().astimezone(ZoneInfo(plan.facility.timezone)).date()
    return _action(plan_id, form, "complete",
                   lambda plan: plans.complete_plan(plan, user=current_user, completed_on=form.completed_on.data,
                                                    override_reason=form.override_reason.data or ""),
                   _("The release is recorded: the animals have left care as released."))


@bp.route("/release-plans/<int:plan_id>/cancel", methods=["GET", "POST"])
@require("release.plan")
@form_checks_csrf
def cancel_plan(plan_id: int):
    """Call the release off; the animals are free for another plan."""
    form = CancelForm()
    return _action(plan_id, form, "cancel",
                   lambda plan: plans.cancel_plan(plan, user=current_user, reason=form.reason.data or ""),
                   _("The plan is cancelled."))
