"""Care-planning pages: the schedules of animals and enclosures, and the species templates.

Every write goes through care.services (the functions the JSON API calls), is
committed here once, then POST/redirect/GET. A refused change re-renders the form
with the service's messages next to the fields and what was typed kept. Edit forms
carry the record's `version`: a stale one is answered 409 with the current values,
never silently overwritten. Schedules outside the user's facilities are 404 (the
queries see to that); templates belong to the whole network.
"""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from app.animals.queries import get_animal
from app.auth.permissions import require
from app.care import queries, services
from app.care.forms import (
    EditScheduleForm,
    EditTemplateForm,
    ScheduleForm,
    TemplateForm,
    labels,
    schedule_data,
    template_data,
)
from app.care.views import bp
from app.common.db import utcnow
from app.common.form_flow import Outcome, edit_versioned, save
from app.common.pagination import paginate
from app.common.security import form_checks_csrf
from app.extensions import db
from app.reference.models import Species
from app.reference.queries import enclosures_stmt, get_enclosure, species_stmt, visible_facilities
from app.reference.views import page_arg, per_page_arg

# What the form refers to (a species, an animal) may change between our read and our write.
CLASH = _l("This could not be saved: a record it refers to changed a moment ago. Check the form and save again.")


# --- schedules ------------------------------------------------------------------------------

def _owner_url(schedule) -> str:
    """Where a schedule is seen from: its animal's record, or the list of its enclosure's schedules."""
    if schedule.animal_id:
        return url_for("animals.animal_record", animal_id=schedule.animal_id)
    return url_for("care.schedules", enclosure_id=schedule.enclosure_id)


def _target():
    """The animal or enclosure named in the query string (404 outside the user's facilities)."""
    animal_id = request.args.get("animal_id", type=int)
    enclosure_id = request.args.get("enclosure_id", type=int)
    if animal_id:
        return get_animal(animal_id), None
    if enclosure_id:
        return None, get_enclosure(enclosure_id)
    return None, None


def _schedule_page(form, schedule=None, conflict=False, status=200, *, animal=None, enclosure=None):
    return render_template(
        "care/schedule_form.html", form=form, schedule=schedule, conflict=conflict,
        animal=animal, enclosure=enclosure, **labels(),
    ), status


@bp.get("/care/schedules")
@require("care.plan")
def schedules():
    facility_id = request.args.get("facility_id", type=int)
    animal_id = request.args.get("animal_id", type=int)
    enclosure_id = request.args.get("enclosure_id", type=int)
    active_arg = request.args.get("active", "1")
    active = {"1": True, "0": False, "all": None}.get(active_arg, True)
    stmt = queries.schedules_stmt(facility_id=facility_id, animal_id=animal_id, enclosure_id=enclosure_id,
                                  active=active)
    page = paginate(stmt, page_arg(), per_page_arg())
    facilities = visible_facilities()
    enclosures = db.session.execute(enclosures_stmt(facility_id=facility_id)).unique().scalars().all()
    return render_template(
        "care/schedule_list.html", page=page, facilities=facilities,
        facility_codes={f.id: f.code for f in facilities}, enclosures=enclosures,
        animal=get_animal(animal_id) if animal_id else None, facility_id=facility_id, animal_id=animal_id,
        enclosure_id=enclosure_id, active_arg=active_arg if active_arg in ("0", "all") else "1", **labels(),
    )


@bp.route("/care/schedules/new", methods=["GET", "POST"])
@require("care.plan")
@form_checks_csrf
def new_schedule():
    animal, enclosure = _target()
    if animal is None and enclosure is None:
        flash(_("Choose the animal or the enclosure the schedule is for."), "warning")
        return redirect(url_for("care.schedules"))
    owner = animal if animal is not None else enclosure
    form = ScheduleForm()
    if request.method == "GET":
        form.starts_on.data = services.local_today(owner.facility_id, utcnow())
    if form.validate_on_submit():
        created = {}

        def write():
            created["schedule"] = services.create_schedule(animal=animal, enclosure=enclosure, user=current_user,
                                                           **form.values())

        if save(form, write, clash_message=CLASH) is Outcome.SAVED:
            flash(_("The schedule for %(target)s is created; its tasks are on the round.",
                    target=animal.accession_number if animal is not None else enclosure.code), "success")
            return redirect(_owner_url(created["schedule"]))
        animal, enclosure = _target()  # the session was rolled back
    return _schedule_page(form, animal=animal, enclosure=enclosure)


@bp.route("/care/schedules/<int:schedule_id>/edit", methods=["GET", "POST"])
@require("care.plan")
@form_checks_csrf
def edit_schedule(schedule_id: int):
    schedule = queries.get_schedule(schedule_id)
    if schedule.is_course:
        # A prescription's doses: not a form of this page (services.update_schedule refuses it too).
        flash(_("This is a prescription's course: the vet changes or stops it on the animal's record."), "warning")
        return redirect(url_for("care.schedules", animal_id=schedule.animal_id) if schedule.animal_id
                        else _owner_url(schedule))
    if request.method == "GET":
        return _schedule_page(EditScheduleForm(formdata=None, data=schedule_data(schedule)), schedule)
    form = EditScheduleForm()

    def saved(record):
        flash(_("The changes to the schedule of %(target)s are saved.", target=record.target_label), "success")
        return redirect(_owner_url(record))

    return edit_versioned(schedule, form, write=lambda record: services.update_schedule(record, form.values()),
                           reload=lambda: queries.get_schedule(schedule_id), page=_schedule_page, saved=saved)


@bp.post("/care/schedules/<int:schedule_id>/end")
@require("care.plan")
def end_schedule(schedule_id: int):
    schedule = queries.get_schedule(schedule_id)
    target, back = schedule.target_label, _owner_url(schedule)
    try:
        services.end_schedule(schedule)
        db.session.commit()
    except services.CareError as error:
        db.session.rollback()
        for messages in error.fields.values():
            for message in messages:
                flash(message, "danger")
        return redirect(back)
    except StaleDataError:
        db.session.rollback()
        flash(_("The schedule was changed by someone else a moment ago. Nothing was saved; try again."), "warning")
        return redirect(back)
    flash(_("The schedule of %(target)s is ended; its open tasks from now on are cancelled.", target=target),
          "success")
    return redirect(back)


# --- templates ------------------------------------------------------------------------------

def _template_page(form, template=None, conflict=False, status=200):
    # get_template loads no species (a lazy="raise" relationship): the label is read here.
    species = db.session.get(Species, template.species_id) if template and template.species_id else None
    return render_template("care/template_form.html", form=form, template=template, species=species,
                           conflict=conflict, **labels()), status


@bp.get("/care/templates")
@require("care.template")
def templates():
    page = paginate(queries.templates_stmt(), page_arg(), per_page_arg())
    return render_template("care/template_list.html", page=page, **labels())


@bp.route("/care/templates/new", methods=["GET", "POST"])
@require("care.template")
@form_checks_csrf
def new_template():
    form = TemplateForm()
    form.set_species(db.session.execute(species_stmt()).scalars().all())
    if request.method == "GET":
        form.species_id.data = request.args.get("species_id", type=int)
    write = lambda: services.save_template(None, form.values())  # noqa: E731 - one call, named for the line
    if form.validate_on_submit() and save(form, write, clash_message=CLASH) is Outcome.SAVED:
        flash(_("The template is saved; it is applied to animals admitted from now on."), "success")
        return redirect(url_for("care.templates"))
    return _template_page(form)


@bp.route("/care/templates/<int:template_id>/edit", methods=["GET", "POST"])
@require("care.template")
@form_checks_csrf
def edit_template(template_id: int):
    template = queries.get_template(template_id)
    if request.method == "GET":
        return _template_page(EditTemplateForm(formdata=None, data=template_data(template)), template)
    form = EditTemplateForm()

    def saved(_record):
        flash(_("The changes to the template are saved; animals admitted from now on get them."), "success")
        return redirect(url_for("care.templates"))

    return edit_versioned(template, form, write=lambda record: services.save_template(record, form.values()),
                           reload=lambda: queries.get_template(template_id), page=_template_page, saved=saved)
