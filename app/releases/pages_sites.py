"""Release sites: the list (everyone), a new site and the edit of one (coordinators and admins).

A site's coordinates are restricted: the list and the forms show and take them only
from users who may see restricted fields (restricted_fields.view); anyone else sees
the site without them and saving leaves them as they are. Every write goes through
app.releases.services.save_site (the function the JSON API calls), is committed once,
then POST/redirect/GET; a refused input re-renders the form with what was typed, a
stale edit is answered 409 with the current values.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.auth.permissions import can, require
from app.common.form_flow import Outcome, edit_versioned, save
from app.common.security import form_checks_csrf
from app.extensions import db
from app.releases import services
from app.releases.forms import EditSiteForm, SiteForm, labels, site_data
from app.releases.models import ReleaseSite
from app.releases.views import bp

MAX_ID = 2**63 - 1  # the largest id a database integer holds: a larger one in the URL is not found
CLASH = _l("Another site was saved with this name a moment ago. Choose another name and save again.")


def _coordinates() -> bool:
    return can("restricted_fields.view")


@bp.get("/release-sites")
@require("release.view")
def sites():
    """Every site, those in use first, by name (one query)."""
    rows = db.session.execute(select(ReleaseSite).order_by(ReleaseSite.is_active.desc(), ReleaseSite.name)).scalars()
    return render_template("releases/sites.html", sites=list(rows), coordinates=_coordinates(), **labels())


def _site_page(form, site=None, conflict=False, status=200):
    if status == 200 and (form.errors or form.form_errors):
        status = 422
    return render_template("releases/site_form.html", form=form, site=site, conflict=conflict,
                           coordinates=_coordinates(), **labels()), status


@bp.route("/release-sites/new", methods=["GET", "POST"])
@require("release.site")
@form_checks_csrf
def new_site():
    form = SiteForm()
    if form.validate_on_submit():
        done = {}

        def write():
            done["name"] = services.save_site(None, form.values(with_coordinates=_coordinates())).name

        if save(form, write, clash_message=str(CLASH)) is Outcome.SAVED:
            flash(_("Release site %(name)s is saved.", name=done["name"]), "success")
            return redirect(url_for("releases.sites"))
    return _site_page(form)


def _get_site(site_id: int) -> ReleaseSite:
    site = db.session.get(ReleaseSite, site_id) if site_id <= MAX_ID else None
    if site is None:
        abort(404)
    return site


@bp.route("/release-sites/<int:site_id>/edit", methods=["GET", "POST"])
@require("release.site")
@form_checks_csrf
def edit_site(site_id: int):
    site = _get_site(site_id)
    if request.method == "GET":
        return _site_page(EditSiteForm(formdata=None, data=site_data(site, with_coordinates=_coordinates())), site)
    form = EditSiteForm()

    def saved(record):
        flash(_("Release site %(name)s is saved.", name=record.name), "success")
        return redirect(url_for("releases.sites"))

    return edit_versioned(
        site, form, write=lambda record: services.save_site(record, form.values(with_coordinates=_coordinates())),
        reload=lambda: _get_site(site_id), page=_site_page, saved=saved, clash_message=str(CLASH),
    )
