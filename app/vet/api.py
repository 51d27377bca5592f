"""The veterinary JSON API (API.md, Veterinary): exams, problems, prescriptions, lab results, quarantine.

Deaths and euthanasia are recorded at POST /animals/{id}/outcomes (app.releases.api), with the
other ways of leaving care; the coordinator's authorisation for a euthanasia under a hold is here.

Reads need "vet.view" (everyone), writes "vet.write" (vets); a coordinator's
authorisation to euthanise under an evidence hold needs "euthanasia.authorise".
Records at another facility are 404, like the animal they belong to.
"""

from flask_login import current_user
from flask_smorest import abort
from sqlalchemy.orm.attributes import set_committed_value

from app.animals.queries import get_animal_columns
from app.api import PageArgs, api_blueprint, check_version, committed, list_schema, refused_as_422
from app.auth.permissions import require
from app.common.idempotency import idempotent
from app.common.pagination import paginate
from app.vet import deaths, prescriptions, quarantine, queries, services
from app.vet.models import PrescriptionStatus
from app.vet.schemas import (
    EuthanasiaAuthorisationSchema,
    ExamSchema,
    LabOutcomeSchema,
    LabResultSchema,
    PrescriptionSchema,
    ProblemPatchSchema,
    ProblemQuerySchema,
    ProblemSchema,
    QuarantineClearanceSchema,
    QuarantineSchema,
    StopSchema,
)

animal_records_bp = api_blueprint("vet_records", __name__, "An animal's medical records, quarantine and deaths; "
                                                             "lab results by id.")
problems_bp = api_blueprint("problems", __name__, "Problem list entries.")
prescriptions_bp = api_blueprint("prescriptions", __name__, "Prescriptions.")


# --- exams -------------------------------------------------------------------------------------

@animal_records_bp.get("/animals/<int:animal_id>/exams")
@require("vet.view")
@animal_records_bp.arguments(PageArgs, location="query")
@animal_records_bp.response(200, list_schema(ExamSchema))
def list_exams(args, animal_id):
    """The animal's examinations, newest first."""
    animal = get_animal_columns(animal_id)
    return paginate(queries.exams_stmt(animal.id), args["page"], args["per_page"]).envelope()


@animal_records_bp.post("/animals/<int:animal_id>/exams")
@require("vet.write")
@idempotent
@animal_records_bp.arguments(ExamSchema)
@animal_records_bp.response(201, ExamSchema)
def create_exam(args, animal_id):
    """Record an examination; a weight given is also added to the animal's weighings."""
    animal = get_animal_columns(animal_id)
    with refused_as_422():
        exam = services.record_exam(animal, user=current_user, **args)
    set_committed_value(exam, "examined_by", current_user._get_current_object())
    return committed(ExamSchema().dump(exam))


# --- problems ----------------------------------------------------------------------------------

@animal_records_bp.get("/animals/<int:animal_id>/problems")
@require("vet.view")
@animal_records_bp.arguments(ProblemQuerySchema, location="query")
@animal_records_bp.arguments(PageArgs, location="query")
@animal_records_bp.response(200, list_schema(ProblemSchema))
def list_problems(filters, args, animal_id):
    """The animal's problem list, active first; ?status=active|resolved."""
    animal = get_animal_columns(animal_id)
    stmt = queries.problems_stmt(animal.id, status=filters.get("status"))
    return paginate(stmt, args["page"], args["per_page"]).envelope()


@animal_records_bp.post("/animals/<int:animal_id>/problems")
@require("vet.write")
@idempotent
@animal_records_bp.arguments(ProblemSchema)
@animal_records_bp.response(201, ProblemSchema)
def create_problem(args, animal_id):
    """Add a problem to the animal's list (active unless status=resolved)."""
    animal = get_animal_columns(animal_id)
    with refused_as_422():
        problem = services.add_problem(animal, user=current_user, **args)
    return committed(ProblemSchema().dump(problem))


@problems_bp.get("/<int:problem_id>")
@require("vet.view")
@problems_bp.response(200, ProblemSchema)
def get_problem(problem_id):
    """One problem, with the version an edit must carry."""
    return queries.get_problem(problem_id)


@problems_bp.patch("/<int:problem_id>")
@require("vet.write")
@problems_bp.arguments(ProblemPatchSchema)
@problems_bp.response(200, ProblemSchema)
@problems_bp.alt_response(409, description="The problem changed since it was read (error.current holds it).")
def patch_problem(args, problem_id):
    """Change a problem with the version read; status=resolved resolves it (resolved_on defaults to today)."""
    problem = queries.get_problem(problem_id)
    check_version(problem, args.pop("version"), ProblemSchema())
    with refused_as_422():
        services.update_problem(problem, args, user=current_user)
    return committed(ProblemSchema().dump(problem), 200)


# --- prescriptions -----------------------------------------------------------------------------

@animal_records_bp.get("/animals/<int:animal_id>/prescriptions")
@require("vet.view")
@animal_records_bp.arguments(PageArgs, location="query")
@animal_records_bp.response(200, list_schema(PrescriptionSchema))
def list_prescriptions(args, animal_id):
    """The animal's prescriptions, active first, then newest."""
    animal = get_animal_columns(animal_id)
    return paginate(queries.prescriptions_stmt(animal.id), args["page"], args["per_page"]).envelope()


@animal_records_bp.post("/animals/<int:animal_id>/prescriptions")
@require("vet.write")
@idempotent
@animal_records_bp.arguments(PrescriptionSchema)
@animal_records_bp.response(201, PrescriptionSchema)
def create_prescription(args, animal_id):
    """Prescribe: the dose in mg (and ml) from the latest weight, and its doses as medicate tasks.

    No weight at all is refused (422, fields.weight); a stale one is used with a warning.
    """
    animal = get_animal_columns(animal_id)
    with refused_as_422():
        prescription, warnings = prescriptions.prescribe(animal, user=current_user, **args)
    body = PrescriptionSchema().dump(prescription)
    body["warnings"] = [str(w) for w in warnings]
    return committed(body)


@prescriptions_bp.get("/<int:prescription_id>")
@require("vet.view")
@prescriptions_bp.response(200, PrescriptionSchema)
def get_prescription(prescription_id):
    """One prescription."""
    return queries.get_prescription(prescription_id)


@prescriptions_bp.post("/<int:prescription_id>/stop")
@require("vet.write")
@idempotent
@prescriptions_bp.arguments(StopSchema)
@prescriptions_bp.response(200, PrescriptionSchema)
@prescriptions_bp.alt_response(409, description="Already stopped (error.current holds the prescription).")
def stop_prescription(args, prescription_id):
    """Stop a prescription: its doses still to come are cancelled; doses past stay to be recorded."""
    prescription = queries.get_prescription(prescription_id)
    if prescription.status != PrescriptionStatus.ACTIVE:
        abort(409, message="This prescription was already stopped.", current=PrescriptionSchema().dump(prescription))
    with refused_as_422():
        prescriptions.stop_prescription(prescription, user=current_user, reason=args["reason"])
    return committed(PrescriptionSchema().dump(prescription), 200)


# --- lab results -------------------------------------------------------------------------------

@animal_records_bp.get("/animals/<int:animal_id>/lab-results")
@require("vet.view")
@animal_records_bp.arguments(PageArgs, location="query")
@animal_records_bp.response(200, list_schema(LabResultSchema))
def list_lab_results(args, animal_id):
    """The animal's lab results, pending first, then newest sample."""
    animal = get_animal_columns(animal_id)
    return paginate(queries.lab_results_stmt(animal.id), args["page"], args["per_page"]).envelope()


@animal_records_bp.post("/animals/<int:animal_id>/lab-results")
@require("vet.write")
@idempotent
@animal_records_bp.arguments(LabResultSchema)
@animal_records_bp.response(201, LabResultSchema)
def create_lab_result(args, animal_id):
    """A sample sent for a test: with an interpretation it is a result, without one (null) it is pending.

    The lab's report file is uploaded on the animal's page.
    """
    animal = get_animal_columns(animal_id)
    with refused_as_422():
        lab = services.add_lab_result(animal, user=current_user, **args)
    return committed(LabResultSchema().dump(lab))


@animal_records_bp.get("/lab-results/<int:lab_id>")
@require("vet.view")
@animal_records_bp.response(200, LabResultSchema)
def get_lab_result(lab_id):
    """One lab result."""
    return queries.get_lab_result(lab_id)


@animal_records_bp.post("/lab-results/<int:lab_id>/result")
@require("vet.write")
@idempotent
@animal_records_bp.arguments(LabOutcomeSchema)
@animal_records_bp.response(200, LabResultSchema)
def record_lab_result(args, lab_id):
    """Record the result of a pending test; one already interpreted is not changed (record a new one)."""
    lab = queries.get_lab_result(lab_id)
    with refused_as_422():
        services.record_lab_outcome(lab, user=current_user, **args)
    return committed(LabResultSchema().dump(lab), 200)


# --- quarantine --------------------------------------------------------------------------------

@animal_records_bp.post("/animals/<int:animal_id>/quarantine-clearance")
@require("vet.write")
@idempotent
@animal_records_bp.arguments(QuarantineClearanceSchema)
@animal_records_bp.response(200, QuarantineSchema)
def clear_quarantine(args, animal_id):
    """End the animal's quarantine; every test its species needs must have a result (fields.tests)."""
    animal = get_animal_columns(animal_id)
    with refused_as_422():
        quarantine.clear_quarantine(animal, user=current_user, **args)
    return committed(QuarantineSchema().dump(animal), 200)


# --- euthanasia under an evidence hold ---------------------------------------------------------

@animal_records_bp.post("/animals/<int:animal_id>/euthanasia-authorisations")
@require("euthanasia.authorise")
@idempotent
@animal_records_bp.arguments(EuthanasiaAuthorisationSchema)
@animal_records_bp.response(201, EuthanasiaAuthorisationSchema)
def authorise_euthanasia(args, animal_id):
    """A coordinator lets a vet euthanise this animal although its case is under an evidence hold (why: reason)."""
    animal = get_animal_columns(animal_id)
    with refused_as_422():
        row = deaths.authorise_euthanasia(animal, user=current_user, reason=args["reason"])
    return committed(EuthanasiaAuthorisationSchema().dump(row))
