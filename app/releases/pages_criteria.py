"""The release checklists: every criterion grouped by taxon class and species, an add form, the edit of one.

Everyone may read the checklists (release.view); only coordinators and admins change
them (release.criteria). Every write goes through app.releases.services.save_criterion
(the function the JSON API calls), is committed once, then POST/redirect/GET. A refused
input re-renders the form with the service's messages next to the fields and what was
typed kept; a stale edit is answered 409 with the current values. The species of a new
criterion is typed: its catalogue id, or its name (as in the intake table's species box).
"""

from dataclasses import dataclass, field

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from app.animals.importer import resolve_species, species_label
from app.auth.permissions import can, deny, require
from app.common.form_flow import Outcome, edit_versioned, save
from app.common.security import form_checks_csrf
from app.extensions import db
from app.reference.models import Species, TaxonClass
from app.releases import services
from app.releases.forms import CriterionForm, EditCriterionForm, criterion_data, labels
from app.releases.models import AutoKey, CriterionKind, ReleaseCriterion
from app.releases.views import bp

# The species offered in the species box's list; any other may still be typed by name or id.
SPECIES_OPTIONS = 2000
MAX_ID = 2**63 - 1  # the largest id a database integer holds
CLASH = _l("This could not be saved: the checklist changed a moment ago. Check the form and save again.")


@dataclass
class Checklist:
    """The criteria of one taxon class, or one species' own (which replace its class's of the same key)."""

    taxon_class: str
    species: Species | None = None
    criteria: list[ReleaseCriterion] = field(default_factory=list)


def _class_filter() -> str | None:
    value = request.args.get("taxon_class") or None
    return value if value in set(TaxonClass) else None


def checklists(taxon_class: str | None = None) -> list[Checklist]:
    """Every criterion (switched-off ones too), classes first in the catalogue's order, then species by name.

    One query: the criteria with their species.
    """
    stmt = (select(ReleaseCriterion).outerjoin(Species, ReleaseCriterion.species_id == Species.id)
            .options(contains_eager(ReleaseCriterion.species)))
    if taxon_class:
        stmt = stmt.where((ReleaseCriterion.taxon_class == taxon_class) | (Species.taxon_class == taxon_class))
    groups: dict[tuple, Checklist] = {}
    for criterion in db.session.execute(stmt).scalars():
        species = criterion.species
        key = ("species", species.id) if species is not None else ("class", criterion.taxon_class)
        if key not in groups:
            groups[key] = Checklist(species.taxon_class if species is not None else criterion.taxon_class, species)
        groups[key].criteria.append(criterion)
    order = {value: i for i, value in enumerate(TaxonClass)}
    for group in groups.values():
        # Automatic criteria first, then manual ones, each by key.
        group.criteria.sort(key=lambda c: (c.kind != CriterionKind.AUTO, c.key))
    return sorted(groups.values(), key=lambda g: (
        g.species is not None, order.get(g.taxon_class, len(order)),
        (g.species.common_name_en.lower(), g.species.id) if g.species is not None else ("", 0)))


def _resolve(text: str) -> tuple[Species | None, str | None]:
    """The species typed (a catalogue id or a name), or why not; an id too large for the database is unknown."""
    if text.isdigit() and int(text) > MAX_ID:
        return None, _("Unknown species")
    return resolve_species({text})[text]


def _species_options() -> list[str]:
    return [species_label(s) for s in db.session.execute(
        select(Species).order_by(Species.common_name_en).limit(SPECIES_OPTIONS)).scalars()]


def _list_page(form, status: int = 200):
    writer = can("release.criteria")
    taxon_class = _class_filter()
    return render_template(
        "releases/criteria.html", groups=checklists(taxon_class), form=form if writer else None,
        species_options=_species_options() if writer else [], auto_keys=list(AutoKey), taxon_class=taxon_class,
        **labels(),
    ), status


@bp.route("/release-criteria", methods=["GET", "POST"])
@require("release.view")
@form_checks_csrf
def criteria():
    """The checklists (everyone), and a new criterion (coordinators and admins)."""
    if request.method == "POST" and not can("release.criteria"):
        deny("release.criteria")
    form = CriterionForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _list_page(form, 422 if request.method == "POST" else 200)
    species_id = None
    if form.species.data:
        species, message = _resolve(form.species.data)
        if species is None:
            form.species.errors = [*form.species.errors, message]
            return _list_page(form, 422)
        species_id = species.id
    done = {}

    def write():
        criterion = services.save_criterion(None, form.values(species_id))
        done["key"] = criterion.key

    if save(form, write, clash_message=str(CLASH)) is Outcome.SAVED:
        flash(_("Criterion %(key)s added to the checklist.", key=done["key"]), "success")
        return redirect(url_for("releases.criteria"))
    return _list_page(form, 422)


def _get_criterion(criterion_id: int) -> ReleaseCriterion:
    """A criterion with its species (the checklists belong to the whole network), or 404."""
    if criterion_id > MAX_ID:
        abort(404)
    criterion = db.session.execute(
        select(ReleaseCriterion).outerjoin(Species, ReleaseCriterion.species_id == Species.id)
        .options(contains_eager(ReleaseCriterion.species)).where(ReleaseCriterion.id == criterion_id)
    ).scalar_one_or_none()
    if criterion is None:
        abort(404)
    return criterion


def _criterion_page(form, criterion, conflict=False, status=200):
    if status == 200 and (form.errors or form.form_errors):
        status = 422
    return render_template("releases/criterion_form.html", form=form, criterion=criterion, conflict=conflict,
                           **labels()), status


@bp.route("/release-criteria/<int:criterion_id>/edit", methods=["GET", "POST"])
@require("release.criteria")
@form_checks_csrf
def edit_criterion(criterion_id: int):
    """Change what a criterion asks, or switch it off; a stale edit is a conflict (409)."""
    criterion = _get_criterion(criterion_id)
    if request.method == "GET":
        return _criterion_page(EditCriterionForm(formdata=None, data=criterion_data(criterion)), criterion)
    form = EditCriterionForm()

    def saved(record):
        flash(_("Criterion %(key)s is saved.", key=record.key), "success")
        return redirect(url_for("releases.criteria"))

    return edit_versioned(
        criterion, form, write=lambda record: services.save_criterion(record, form.values()),
        reload=lambda: _get_criterion(criterion_id), page=_criterion_page, saved=saved, clash_message=str(CLASH),
    )
