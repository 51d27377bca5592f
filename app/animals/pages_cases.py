"""Pages for cases: list, record a seizure, edit, detail with evidence hold and custody.

Every write goes through animals.services (the rules) and is committed here once;
a refusal re-renders the page with the service's messages next to the fields.
"""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from wtforms import SelectChoice

from app.animals import queries, services
from app.animals.forms_cases import SOURCE_LABELS, CaseForm, EditCaseForm, HandoverForm, HoldForm, to_local
from app.animals.views import bp
from app.auth.permissions import can, require
from app.common.form_flow import arm_with_current_version, show_errors
from app.common.pagination import paginate
from app.extensions import db
from app.reference import queries as reference_queries
from app.reference.views import page_arg, per_page_arg


@bp.get("/cases")
@require("case.view")
def cases():
    q = request.args.get("q", "").strip()
    held_arg = request.args.get("held", "")
    held = {"1": True, "0": False}.get(held_arg)
    page = paginate(queries.cases_stmt(q=q or None, held=held), page_arg(), per_page_arg())
    counts = queries.case_animal_counts([c.id for c in page.items])
    return render_template("animals/case_list.html", page=page, counts=counts, q=q, held=held_arg,
                           sources=SOURCE_LABELS)


def _case_form_page(form, case=None, conflict=False, status=200):
    return render_template("animals/case_form.html", form=form, case=case, conflict=conflict), status


@bp.route("/cases/new", methods=["GET", "POST"])
@require("case.manage")
def new_case():
    form = CaseForm()
    facilities = reference_queries.visible_facilities()
    form.facility_id.choices = [SelectChoice(f.id, f.name) for f in facilities]
    if form.validate_on_submit():
        facility = reference_queries.get_facility(form.facility_id.data)
        try:
            case = services.create_case(facility=facility, user=current_user, **form.values())
        except services.IntakeError as error:
            db.session.rollback()
            show_errors(form, error.fields)
        else:
            reference = case.reference
            db.session.commit()
            flash(_("Case %(reference)s is recorded. Now add its animals.", reference=reference), "success")
            return redirect(url_for("animals.intake", case_id=case.id))
    return _case_form_page(form, status=422 if form.errors or form.form_errors else 200)


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
@require("case.manage")
def edit_case(case_id: int):
    case = queries.get_case(case_id)
    if request.method == "GET":
        form = EditCaseForm(formdata=None, obj=case)
        form.occurred_at.data = to_local(case.occurred_at)
        return _case_form_page(form, case)
    form = EditCaseForm()
    valid = form.validate()
    if form.version.data != case.version:
        arm_with_current_version(form, case)
        return _case_form_page(form, case, conflict=True, status=409)
    if not valid:
        return _case_form_page(form, case, status=422)
    try:
        services.update_case(case, form.values())
        db.session.commit()
    except services.IntakeError as error:
        db.session.rollback()
        show_errors(form, error.fields)
        return _case_form_page(form, queries.get_case(case_id), status=422)
    except StaleDataError:
        db.session.rollback()
        case = queries.get_case(case_id)
        arm_with_current_version(form, case)
        return _case_form_page(form, case, conflict=True, status=409)
    flash(_("The changes to case %(reference)s are saved.", reference=case.reference), "success")
    return redirect(url_for("animals.case_detail", case_id=case_id))


def _handover_form(animals, formdata=None) -> HandoverForm:
    form = HandoverForm(formdata=formdata) if formdata is not None else HandoverForm()
    form.animal_id.choices = [SelectChoice("", _("The whole case"))] + [
        SelectChoice(str(a.id), f"{a.accession_number} — {a.species.common_name_en}"
                     + (f" ×{a.quantity}" if a.is_lot else ""))
        for a in animals
    ]
    return form


def _detail_page(case, *, hold_form=None, handover_form=None, status=200):
    animals = queries.case_animals(case.id)
    return render_template(
        "animals/case_detail.html", case=case, animals=animals, sources=SOURCE_LABELS,
        history=queries.hold_history(case.id), handovers=queries.case_handovers(case.id),
        hold_form=hold_form or HoldForm(formdata=None),
        handover_form=handover_form or _handover_form(animals, formdata=None),
        attachments=queries.attachments_of(case_id=case.id),
        show_restricted=can("restricted_fields.view"),
    ), status


@bp.get("/cases/<int:case_id>")
@require("case.view")
def case_detail(case_id: int):
    return _detail_page(queries.get_case(case_id))


@bp.post("/cases/<int:case_id>/hold")
@require("case.hold")
def set_hold(case_id: int):
    case = queries.get_case(case_id)
    form = HoldForm()
    if form.validate_on_submit():
        # "review": a coordinator confirms an active hold is still needed (the scheduler asks for it).
        review, active = form.active.data == "review", form.active.data == "1"
        try:
            if review:
                services.review_evidence_hold(case, reason=form.reason.data or "", user=current_user)
            else:
                services.set_evidence_hold(case, active=active, reason=form.reason.data or "", user=current_user)
        except services.IntakeError as error:
            db.session.rollback()
            show_errors(form, error.fields)
        else:
            db.session.commit()
            flash(_("The evidence hold is confirmed as still needed.") if review
                  else _("The evidence hold is set.") if active else _("The evidence hold is lifted."), "success")
            return redirect(url_for("animals.case_detail", case_id=case_id))
    return _detail_page(queries.get_case(case_id), hold_form=form, status=422)


@bp.post("/cases/<int:case_id>/handovers")
@require("custody.record")
def record_handover_page(case_id: int):
    case = queries.get_case(case_id)
    animals = queries.case_animals(case.id)
    form = _handover_form(animals, formdata=request.form)
    if form.validate_on_submit():
        animal = None
        if form.animal_id.data:
            animal = next((a for a in animals if str(a.id) == form.animal_id.data), None)
            if animal is None:
                form.animal_id.errors = [_("Choose an animal of this case.")]
        if not form.animal_id.errors:
            try:
                services.record_handover(case, animal=animal, user=current_user, **form.values())
            except services.IntakeError as error:
                db.session.rollback()
                show_errors(form, error.fields)
            else:
                db.session.commit()
                flash(_("The hand-over is recorded."), "success")
                return redirect(url_for("animals.case_detail", case_id=case_id, _anchor="custody"))
    return _detail_page(queries.get_case(case_id), handover_form=form, status=422)
