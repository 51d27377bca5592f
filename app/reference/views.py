"""The `reference` blueprint: pages for facilities, enclosures and the species catalogue.

Every write goes through reference.services (the same functions the JSON API
calls), is committed here once, then POST/redirect/GET. A refused change
re-renders the form with the service's messages next to the fields and what was
typed kept. Edit forms carry the record's `version`: a stale one is refused with
409 and the current values, never silently overwritten.

Facilities are here; enclosures and species live in views_enclosures and
views_species, imported at the bottom so that they register on this blueprint.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.auth.permissions import require
from app.common.form_flow import Outcome, edit_versioned, save
from app.extensions import db
from app.reference import queries, services
from app.reference.forms import EditFacilityForm, FacilityForm, labels

bp = Blueprint("reference", __name__)

# Time zones offered as suggestions on the facility form; any IANA name is accepted.
TIMEZONE_SUGGESTIONS = (
    "Asia/Phnom_Penh", "Asia/Bangkok", "Asia/Ho_Chi_Minh", "Asia/Vientiane", "Asia/Yangon",
    "Asia/Kuala_Lumpur", "Asia/Singapore", "Asia/Jakarta", "Asia/Manila", "UTC",
)


def delete_refused_message() -> str:
    return _("It cannot be deleted: animals or their history refer to it.")


def page_arg() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def per_page_arg(default: int = 50) -> int:
    return max(1, min(200, request.args.get("per_page", default, type=int) or default))


def _facility_page(form, facility=None, conflict=False, status=200):
    return render_template(
        "reference/facility_form.html", form=form, facility=facility, conflict=conflict,
        timezones=TIMEZONE_SUGGESTIONS, **labels(),
    ), status


@bp.get("/facilities")
@require("facility.view")
def facilities():
    rows = db.session.execute(queries.facilities_stmt()).scalars().all()
    return render_template("reference/facilities.html", facilities=rows, **labels())


@bp.route("/facilities/new", methods=["GET", "POST"])
@require("facility.manage")
def new_facility():
    form = FacilityForm()
    if form.validate_on_submit():
        created = {}

        def write():
            created["facility"] = services.create_facility(
                code=form.code.data, name=form.name.data, kind=form.kind.data,
                province=form.province.data or "", timezone=form.timezone.data,
            )

        if save(form, write) is Outcome.SAVED:
            flash(_("Facility %(code)s is created.", code=created["facility"].code), "success")
            return redirect(url_for("reference.facilities"))
    return _facility_page(form)


@bp.route("/facilities/<int:facility_id>/edit", methods=["GET", "POST"])
@require("facility.manage")
def edit_facility(facility_id: int):
    facility = queries.get_facility(facility_id)
    if request.method == "GET":
        return _facility_page(EditFacilityForm(formdata=None, obj=facility), facility)
    form = EditFacilityForm()

    def saved(record):
        flash(_("The changes to %(code)s are saved.", code=record.code), "success")
        return redirect(url_for("reference.facilities"))

    values = {"name": form.name.data, "kind": form.kind.data, "province": form.province.data or "",
              "timezone": form.timezone.data}
    return edit_versioned(facility, form, write=lambda record: services.update_facility(record, values),
                          reload=lambda: queries.get_facility(facility_id), page=_facility_page, saved=saved)


from app.reference import views_enclosures, views_species  # noqa: E402, F401
