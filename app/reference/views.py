"""The `reference` blueprint: pages for facilities, enclosures and the species catalogue.

Every write goes through reference.services (the same functions the JSON API
calls), is committed here once, then POST/redirect/GET. A refused change
re-renders the form with the service's messages next to the fields and what was
typed kept. Edit forms carry the record's `version`: a stale one is refused with
409 and the current values, never silently overwritten.

Facilities are here; enclosures and species live in views_enclosures and
views_species, imported at the bottom so that they register on this blueprint.
"""

from enum import Enum

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from wtforms import Field

from app.auth.permissions import require
from app.extensions import db
from app.reference import queries, services
from app.reference.forms import EditFacilityForm, FacilityForm, labels

bp = Blueprint("reference", __name__)

# Time zones offered as suggestions on the facility form; any IANA name is accepted.
TIMEZONE_SUGGESTIONS = (
    "Asia/Phnom_Penh", "Asia/Bangkok", "Asia/Ho_Chi_Minh", "Asia/Vientiane", "Asia/Yangon",
    "Asia/Kuala_Lumpur", "Asia/Singapore", "Asia/Jakarta", "Asia/Manila", "UTC",
)


class Outcome(Enum):
    SAVED = "saved"
    REFUSED = "refused"
    STALE = "stale"


def save(form, write) -> Outcome:
    """Run one service call and commit it; on refusal put the messages on the form's fields.

    STALE means the row changed between our read and our UPDATE (SQLAlchemy's version
    check): the caller answers it like a stale form. After REFUSED or STALE the session
    was rolled back, so the caller reloads the record before showing it.
    """
    try:
        write()
        db.session.commit()
    except services.ReferenceError as error:
        db.session.rollback()
        show_errors(form, error.fields)
        return Outcome.REFUSED
    except StaleDataError:
        db.session.rollback()
        return Outcome.STALE
    except IntegrityError:
        # Another request saved the same code or name between our check and our write.
        db.session.rollback()
        form.form_errors.append(_("This clashes with a record saved a moment ago. Check the codes and names."))
        return Outcome.REFUSED
    return Outcome.SAVED


def show_errors(form, fields: dict[str, list[str]]) -> None:
    """The service's messages on the matching fields; any others above the form."""
    for name, messages in fields.items():
        field = form._fields.get(name)
        if isinstance(field, Field) and name != "version":
            field.errors = [*field.errors, *messages]
        else:
            form.form_errors.extend(messages)


def edit_versioned(record, form, *, write, reload, page, saved):
    """The POST of an edit form for a versioned record, shared by facilities, enclosures and species.

    A form whose `version` is not the record's is a conflict (409) showing the current
    values; otherwise `write(record)` runs through save(), and a row changed between
    our read and our UPDATE is the same conflict. `page(form, record, conflict=, status=)`
    renders the form, `saved(record)` answers a successful save, `reload()` reads anew.
    """
    valid = form.validate()
    if form.version.data != record.version:
        arm_with_current_version(form, record)
        return page(form, record, conflict=True, status=409)
    if valid:
        outcome = save(form, lambda: write(record))
        if outcome is Outcome.SAVED:
            return saved(record)
        record = reload()
        if outcome is Outcome.STALE:
            arm_with_current_version(form, record)
            return page(form, record, conflict=True, status=409)
    return page(form, record)


def arm_with_current_version(form, record) -> None:
    """After a conflict the form carries the current version: saving again is a deliberate choice."""
    form.version.data = record.version
    form.version.raw_data = [str(record.version)]


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
