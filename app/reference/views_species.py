"""Species catalogue pages: search and filter, one species, new, edit and delete.

The search is queries.species_stmt, the same as the API's ?q=: any of the three
names, ignoring case and Latin accents.
"""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.auth.permissions import require
from app.common.form_flow import Outcome, edit_versioned, save
from app.common.pagination import paginate
from app.extensions import db
from app.reference import queries, services
from app.reference.forms import TAXON_CLASS_LABELS, EditSpeciesForm, SpeciesForm, labels
from app.reference.views import (
    bp,
    delete_refused_message,
    page_arg,
    per_page_arg,
)

# The API accepts at most this many characters in ?q=; the page quietly does the same.
MAX_QUERY = 100

FIELDS = ("scientific_name", "common_name_en", "common_name_km", "taxon_class", "iucn_status", "cites_appendix",
          "kh_category", "quarantine_days", "expected_stay_days", "zoonosis_note")


def _form_page(form, species=None, conflict=False, status=200):
    return render_template(
        "reference/species_form.html", form=form, species=species, conflict=conflict, **labels()
    ), status


def _values(form) -> dict:
    values = {name: form[name].data for name in FIELDS}
    values["common_name_km"] = values["common_name_km"] or ""
    values["zoonosis_note"] = values["zoonosis_note"] or ""
    return values


@bp.get("/species")
@require("species.view")
def species_list():
    q = (request.args.get("q") or "").strip()[:MAX_QUERY]
    taxon_class = request.args.get("taxon_class") or ""
    if taxon_class not in TAXON_CLASS_LABELS:
        taxon_class = ""
    page = paginate(queries.species_stmt(q or None, taxon_class or None), page_arg(), per_page_arg())
    return render_template("reference/species_list.html", page=page, q=q, taxon_class=taxon_class, **labels())


@bp.route("/species/new", methods=["GET", "POST"])
@require("species.manage")
def new_species():
    form = SpeciesForm()
    if form.validate_on_submit():
        created = {}

        def write():
            created["species"] = services.create_species(**_values(form))

        if save(form, write) is Outcome.SAVED:
            species = created["species"]
            flash(_("%(name)s is added to the catalogue.", name=species.common_name_en), "success")
            return redirect(url_for("reference.species", species_id=species.id))
    return _form_page(form)


@bp.get("/species/<int:species_id>")
@require("species.view")
def species(species_id: int):
    return render_template("reference/species.html", species=queries.get_species(species_id), **labels())


@bp.route("/species/<int:species_id>/edit", methods=["GET", "POST"])
@require("species.manage")
def edit_species(species_id: int):
    record = queries.get_species(species_id)
    if request.method == "GET":
        return _form_page(EditSpeciesForm(formdata=None, obj=record), record)
    form = EditSpeciesForm()

    def saved(species):
        flash(_("The changes to %(name)s are saved.", name=species.common_name_en), "success")
        return redirect(url_for("reference.species", species_id=species.id))

    return edit_versioned(record, form, write=lambda species: services.update_species(species, _values(form)),
                          reload=lambda: queries.get_species(species_id), page=_form_page, saved=saved)


@bp.post("/species/<int:species_id>/delete")
@require("species.manage")
def delete_species(species_id: int):
    record = queries.get_species(species_id)
    name = record.common_name_en
    try:
        services.delete_species(record)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash(delete_refused_message(), "danger")
        return redirect(url_for("reference.species", species_id=species_id))
    flash(_("%(name)s is deleted from the catalogue.", name=name), "success")
    return redirect(url_for("reference.species_list"))
