"""Enclosure pages: the list by facility and section, one enclosure, new, edit and delete.

Only enclosures of the facilities the user may see are listed or opened (others
are 404); the facility choices on the form are limited the same way.
"""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from wtforms import SelectChoice

from app.auth.permissions import require
from app.common.form_flow import Outcome, edit_versioned, save
from app.common.pagination import paginate
from app.extensions import db
from app.reference import queries, services
from app.reference.forms import EditEnclosureForm, EnclosureForm, labels
from app.reference.views import (
    bp,
    delete_refused_message,
    page_arg,
    per_page_arg,
)


def _form_page(form, enclosure=None, conflict=False, status=200):
    return render_template(
        "reference/enclosure_form.html", form=form, enclosure=enclosure, conflict=conflict, **labels()
    ), status


def _values(form) -> dict:
    """What the form says, in the service's terms (the facility is set on creation only)."""
    return {
        "code": form.code.data, "name": form.name.data, "section": form.section.data or "",
        "kind": form.kind.data, "capacity": form.capacity.data, "is_quarantine": bool(form.is_quarantine.data),
    }


@bp.get("/enclosures")
@require("enclosure.view")
def enclosures():
    facility_id = request.args.get("facility_id", type=int)
    quarantine_only = request.args.get("quarantine") == "1"
    stmt = queries.enclosures_stmt(facility_id=facility_id, quarantine=True if quarantine_only else None)
    page = paginate(stmt, page_arg(), per_page_arg())
    return render_template(
        "reference/enclosures.html", page=page, facilities=queries.visible_facilities(), facility_id=facility_id,
        quarantine_only=quarantine_only, **labels(),
    )


@bp.route("/enclosures/new", methods=["GET", "POST"])
@require("enclosure.manage")
def new_enclosure():
    form = EnclosureForm()
    form.facility_id.choices = [SelectChoice(f.id, str(f)) for f in queries.visible_facilities()]
    if request.method == "GET" and request.args.get("facility_id", type=int):
        form.facility_id.data = request.args.get("facility_id", type=int)
    if form.validate_on_submit():
        created = {}

        def write():
            created["enclosure"] = services.create_enclosure(facility_id=form.facility_id.data, **_values(form))

        if save(form, write) is Outcome.SAVED:
            enclosure = created["enclosure"]
            flash(_("Enclosure %(code)s is created.", code=enclosure.code), "success")
            return redirect(url_for("reference.enclosure", enclosure_id=enclosure.id))
    return _form_page(form)


@bp.get("/enclosures/<int:enclosure_id>")
@require("enclosure.view")
def enclosure(enclosure_id: int):
    return render_template("reference/enclosure.html", enclosure=queries.get_enclosure(enclosure_id), **labels())


@bp.route("/enclosures/<int:enclosure_id>/edit", methods=["GET", "POST"])
@require("enclosure.manage")
def edit_enclosure(enclosure_id: int):
    enclosure = queries.get_enclosure(enclosure_id)
    if request.method == "GET":
        return _form_page(EditEnclosureForm(formdata=None, obj=enclosure), enclosure)
    form = EditEnclosureForm()

    def saved(record):
        flash(_("The changes to enclosure %(code)s are saved.", code=record.code), "success")
        return redirect(url_for("reference.enclosure", enclosure_id=record.id))

    return edit_versioned(enclosure, form, write=lambda record: services.update_enclosure(record, _values(form)),
                          reload=lambda: queries.get_enclosure(enclosure_id), page=_form_page, saved=saved)


@bp.post("/enclosures/<int:enclosure_id>/delete")
@require("enclosure.manage")
def delete_enclosure(enclosure_id: int):
    enclosure = queries.get_enclosure(enclosure_id)
    code = enclosure.code
    try:
        services.delete_enclosure(enclosure)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash(delete_refused_message(), "danger")
        return redirect(url_for("reference.enclosure", enclosure_id=enclosure_id))
    flash(_("Enclosure %(code)s is deleted.", code=code), "success")
    return redirect(url_for("reference.enclosures"))
