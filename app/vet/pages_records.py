"""The vet's record pages: an exam, a problem and its edit, a prescription and its stop, a lab result and its outcome.

Every write goes through app.vet.services / app.vet.prescriptions (the functions the
JSON API calls), is committed here once, then POST/redirect/GET with a flash. A
refused input re-renders the form with the service's messages next to the fields and
what was typed kept (an uploaded file cannot be put back into a file box: the page
says to choose it again). Times typed on the exam form are the wall clock of the
animal's facility. Animals and records outside the user's facilities are 404 (the
queries see to that); only vets may write (permission "vet.write").
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from app.animals.attachments import CAPTION_MAX, AttachmentError, add_attachment, discard_files
from app.animals.pages_animals import header_context
from app.animals.queries import get_animal
from app.auth.models import Facility
from app.auth.permissions import require
from app.common.db import utcnow
from app.common.errors import RuleError
from app.common.form_flow import Outcome, edit_versioned, save, show_errors
from app.common.security import form_checks_csrf
from app.extensions import db
from app.vet import dosing, prescriptions, queries, services
from app.vet.forms import (
    COMMON_TESTS,
    INTERPRETATION_LABELS,
    ROUTE_LABELS,
    STATUS_LABELS,
    EditProblemForm,
    ExamForm,
    LabOutcomeForm,
    LabResultForm,
    PrescriptionForm,
    ProblemForm,
    StopPrescriptionForm,
    problem_data,
)
from app.vet.models import PrescriptionStatus
from app.vet.views import bp


def _zone(animal) -> ZoneInfo:
    """The animal's facility's time zone: what the vet's clock on the wall says."""
    return ZoneInfo(db.session.get(Facility, animal.facility_id).timezone)


def _local_today(animal):
    return utcnow().astimezone(_zone(animal)).date()


def _record_url(animal_id: int) -> str:
    return url_for("animals.animal_record", animal_id=animal_id)


def _page(template: str, form, animal, status: int | None = None, **context):
    """A form page about one animal; 422 when the form shows errors."""
    if status is None:
        status = 422 if form.errors or form.form_errors else 200
    return render_template(template, form=form, **header_context(animal), **context), status


# --- exams -----------------------------------------------------------------------------

@bp.route("/animals/<int:animal_id>/exams/new", methods=["GET", "POST"])
@require("vet.write")
@form_checks_csrf
def new_exam(animal_id: int):
    """A clinical examination; a weight given also joins the animal's weight history."""
    animal = get_animal(animal_id)
    form = ExamForm()
    if request.method == "GET":
        form.examined_at.data = utcnow().astimezone(_zone(animal)).replace(tzinfo=None, second=0, microsecond=0)
    if form.validate_on_submit():
        typed = form.examined_at.data
        examined_at = typed.replace(tzinfo=_zone(animal)) if typed is not None else None

        def write():
            services.record_exam(animal, user=current_user, examined_at=examined_at, weight_g=form.weight_g.data,
                                 bcs=form.bcs.data, temperature_c=form.temperature_c.data,
                                 findings=form.findings.data, assessment=form.assessment.data, plan=form.plan.data)

        if save(form, write) is Outcome.SAVED:
            flash(_("Exam of %(animal)s recorded.", animal=animal.accession_number), "success")
            return redirect(_record_url(animal_id))
        animal = get_animal(animal_id)  # the session was rolled back
    return _page("vet/exam_form.html", form, animal)


# --- problems --------------------------------------------------------------------------

@bp.route("/animals/<int:animal_id>/problems/new", methods=["GET", "POST"])
@require("vet.write")
@form_checks_csrf
def new_problem(animal_id: int):
    """A new entry on the animal's problem list (active)."""
    animal = get_animal(animal_id)
    form = ProblemForm()
    if form.validate_on_submit():
        write = lambda: services.add_problem(animal, user=current_user, **form.values())  # noqa: E731
        if save(form, write) is Outcome.SAVED:
            flash(_("Problem added: %(diagnosis)s.", diagnosis=form.diagnosis.data), "success")
            return redirect(_record_url(animal_id))
        animal = get_animal(animal_id)
    return _page("vet/problem_form.html", form, animal, problem=None, conflict=False, status_labels=STATUS_LABELS)


def _problem_page(form, problem, conflict=False, status=200):
    if status == 200 and (form.errors or form.form_errors):
        status = 422
    return _page("vet/problem_form.html", form, get_animal(problem.animal_id), status=status, problem=problem,
                 conflict=conflict, status_labels=STATUS_LABELS)


@bp.route("/problems/<int:problem_id>/edit", methods=["GET", "POST"])
@require("vet.write")
@form_checks_csrf
def edit_problem(problem_id: int):
    """Change a problem as the diagnosis becomes clear, or resolve it; a stale edit is a conflict (409)."""
    problem = queries.get_problem(problem_id)
    if request.method == "GET":
        return _problem_page(EditProblemForm(formdata=None, data=problem_data(problem)), problem)
    form = EditProblemForm()

    def saved(record):
        flash(_("The problem %(diagnosis)s is saved.", diagnosis=form.diagnosis.data), "success")
        return redirect(_record_url(record.animal_id))

    return edit_versioned(
        problem, form, write=lambda record: services.update_problem(record, form.values(), user=current_user),
        reload=lambda: queries.get_problem(problem_id), page=_problem_page, saved=saved,
    )


# --- prescriptions ---------------------------------------------------------------------

def _weight_context(animal) -> dict:
    """The weight the dose will be worked out from, and whether the vet should weigh first."""
    weight = services.latest_weight(animal.id)
    stale_days = current_app.config["STALE_WEIGHT_DAYS"]
    stale = weight is None or weight.measured_at < utcnow() - timedelta(days=stale_days)
    return {"weight": weight, "weight_is_stale": stale, "stale_days": stale_days,
            "weight_grams": dosing.plain(weight.grams) if weight else "",
            "weighed_on": weight.measured_at.astimezone(_zone(animal)).date() if weight else None}


def _dose_summary(p, animal) -> str:
    """"Meloxicam 1.2 mg = 0.8 ml PO BID, 10 doses from 2026-06-10 (weight 6000 g on 2026-06-08)"."""
    dose = f"{p.drug} {dosing.plain(p.dose_mg)} mg"
    if p.volume_ml is not None:
        dose += f" = {dosing.plain(p.volume_ml)} ml"
    values = {"dose": dose, "route": p.route, "frequency": p.frequency, "n": p.doses,
              "start": p.starts_on.isoformat(), "grams": dosing.plain(p.weight_g_used),
              "weighed": p.weight_measured_at.astimezone(_zone(animal)).date().isoformat()}
    if animal.is_lot:
        return _("%(dose)s per animal %(route)s %(frequency)s, %(n)d doses from %(start)s "
                 "(mean weight %(grams)s g on %(weighed)s).", **values)
    return _("%(dose)s %(route)s %(frequency)s, %(n)d doses from %(start)s (weight %(grams)s g on %(weighed)s).",
             **values)


@bp.route("/animals/<int:animal_id>/prescriptions/new", methods=["GET", "POST"])
@require("vet.write")
@form_checks_csrf
def new_prescription(animal_id: int):
    """Prescribe a drug: the dose from the latest weight, the doses as medicate tasks on the round."""
    animal = get_animal(animal_id)
    form = PrescriptionForm()
    if request.method == "GET":
        form.starts_on.data = _local_today(animal)
    if form.validate_on_submit():
        done = {}

        def write():
            prescription, warnings = prescriptions.prescribe(animal, user=current_user, **form.values())
            # Worded before the commit, which expires the row.
            done["summary"], done["warnings"] = _dose_summary(prescription, animal), warnings

        if save(form, write) is Outcome.SAVED:
            flash(done["summary"], "success")
            for warning in done["warnings"]:
                flash(warning, "warning")
            return redirect(_record_url(animal_id))
        animal = get_animal(animal_id)
    return _page("vet/prescription_form.html", form, animal, route_labels=ROUTE_LABELS, **_weight_context(animal))


@bp.route("/prescriptions/<int:prescription_id>/stop", methods=["GET", "POST"])
@require("vet.write")
@form_checks_csrf
def stop_prescription(prescription_id: int):
    """Confirm, then stop a prescription: its doses from now on are cancelled, past ones stay to be recorded."""
    prescription = queries.get_prescription(prescription_id)
    animal_id = prescription.animal_id
    form = StopPrescriptionForm()
    if form.validate_on_submit():
        done = {}

        def write():
            done["cancelled"] = prescriptions.stop_prescription(prescription, user=current_user,
                                                                reason=form.reason.data or "")
            done["drug"] = prescription.drug

        outcome = save(form, write)
        if outcome is Outcome.SAVED:
            flash(_("%(drug)s stopped: %(n)d doses still to come were cancelled.", drug=done["drug"],
                    n=done["cancelled"]), "success")
            return redirect(_record_url(animal_id))
        if outcome is Outcome.STALE:
            form.form_errors.append(_("This prescription was changed by someone else a moment ago. "
                                      "Nothing was saved: check it and stop it again."))
        prescription = queries.get_prescription(prescription_id)
    return _page("vet/prescription_stop.html", form, get_animal(animal_id), prescription=prescription,
                 is_active=prescription.status == PrescriptionStatus.ACTIVE, route_labels=ROUTE_LABELS,
                 plain=dosing.plain)


# --- lab results -----------------------------------------------------------------------

def _save_with_file(form, write, *, animal, caption: str) -> bool:
    """Store the uploaded report (if any) and run `write(attachment)`; commit once. True when saved.

    The file's and the form's messages are shown together. Whatever fails, the stored
    file of a row that was not committed is removed again.
    """
    upload = form.file.data
    attachment = None
    try:
        errors: dict[str, list] = {}
        if upload and upload.filename:
            try:
                attachment = add_attachment(upload.stream, upload.filename, animal=animal, user=current_user,
                                            caption=caption[:CAPTION_MAX], animal_documents=True)
            except AttachmentError as error:
                errors.update(error.fields)
        try:
            write(attachment)
        except services.VetError as error:
            for field, messages in error.fields.items():
                errors.setdefault(field, []).extend(messages)
        if errors:
            raise services.VetError(errors)
        db.session.commit()
    except RuleError as error:
        _undo(attachment)
        show_errors(form, error.fields)
        if upload and upload.filename and not form.file.errors:
            form.file.errors = [_("The file was not kept because the form had errors: choose it again.")]
        return False
    except StaleDataError:
        _undo(attachment)
        form.form_errors.append(_("This result was recorded by someone else a moment ago. Nothing was saved."))
        return False
    except BaseException:
        _undo(attachment)
        raise
    return True


def _undo(attachment) -> None:
    db.session.rollback()
    if attachment is not None:
        discard_files(attachment)


def _lab_context() -> dict:
    return {"common_tests": COMMON_TESTS, "interpretation_labels": INTERPRETATION_LABELS}


@bp.route("/animals/<int:animal_id>/lab-results/new", methods=["GET", "POST"])
@require("vet.write")
@form_checks_csrf
def new_lab_result(animal_id: int):
    """A sample sent for a test, pending or with its result, with the lab's report if there is one."""
    animal = get_animal(animal_id)
    form = LabResultForm()
    if request.method == "GET":
        form.sampled_on.data = _local_today(animal)
    if form.validate_on_submit():
        def write(attachment):
            services.add_lab_result(animal, user=current_user, attachment=attachment, test=form.test.data,
                                    sampled_on=form.sampled_on.data, result=form.result.data,
                                    interpretation=form.interpretation.data)

        if _save_with_file(form, write, animal=animal, caption=_("Lab report: %(test)s", test=form.test.data or "")):
            if form.interpretation.data:
                flash(_("Lab result recorded: %(test)s.", test=form.test.data), "success")
            else:
                flash(_("Sample recorded: %(test)s, pending its result.", test=form.test.data), "success")
            return redirect(_record_url(animal_id))
        animal = get_animal(animal_id)
    return _page("vet/lab_result_form.html", form, animal, **_lab_context())


@bp.route("/lab-results/<int:lab_id>/result", methods=["GET", "POST"])
@require("vet.write")
@form_checks_csrf
def record_lab_result(lab_id: int):
    """The result of a pending test comes back: result, interpretation, the lab's report."""
    lab = queries.get_lab_result(lab_id)
    animal = get_animal(lab.animal_id)
    if request.method == "GET" and not lab.is_pending:
        flash(_("The result of this %(test)s is already recorded; record a new one to correct it.", test=lab.test),
              "info")
        return redirect(_record_url(animal.id))
    form = LabOutcomeForm()
    if form.validate_on_submit():
        def write(attachment):
            services.record_lab_outcome(lab, user=current_user, attachment=attachment, result=form.result.data,
                                        interpretation=form.interpretation.data)

        test = lab.test
        if _save_with_file(form, write, animal=animal, caption=_("Lab report: %(test)s", test=test)):
            flash(_("Lab result recorded: %(test)s.", test=test), "success")
            return redirect(_record_url(animal.id))
        lab = queries.get_lab_result(lab_id)
        animal = get_animal(lab.animal_id)
    return _page("vet/lab_outcome_form.html", form, animal, lab=lab, **_lab_context())

