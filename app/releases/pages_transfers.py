"""Pages where animals leave a facility (a transfer within the network, a transfer out, an escape) and
where field teams record what they see of released animals.

Each commits once, after the service; a refusal (an evidence hold naming its case, a
count beyond the lot, missing permits) re-renders the form with the service's
message next to its field, or above the form, and what was typed kept. Times are
typed on the wall clock of the animal's facility.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.animals.models import Animal, AnimalStatus
from app.animals.pages_animals import header_context
from app.animals.queries import get_animal
from app.auth.models import Facility
from app.auth.permissions import may_see_facility, require
from app.common import form_flow
from app.common.db import utcnow
from app.common.form_flow import show_errors
from app.common.security import form_checks_csrf
from app.extensions import db
from app.releases import monitoring, transfers
from app.releases.forms_transfers import (
    OBSERVATION_KIND_LABELS,
    EscapeForm,
    ObservationForm,
    TransferForm,
    TransferOutForm,
)
from app.releases.views import bp


def _zone(animal: Animal) -> ZoneInfo:
    return ZoneInfo(db.session.get(Facility, animal.facility_id).timezone)


def _aware(local: datetime | None, zone: ZoneInfo) -> datetime | None:
    return local.replace(tzinfo=zone) if local is not None else None


def _now_local(zone: ZoneInfo) -> datetime:
    return utcnow().astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)


def _status(form) -> int:
    return 422 if form.errors or form.form_errors else 200


def _save(form, write) -> bool:
    """Run the service and commit; on a refusal the messages go onto the form (the session was rolled back)."""
    outcome = form_flow.save(form, write)
    if outcome is form_flow.Outcome.STALE:
        form.form_errors.append(_("The record changed while you were working. Nothing was saved: check the form "
                                  "and save again."))
    return outcome is form_flow.Outcome.SAVED


def _count(form, animal: Animal) -> int | None:
    """The count typed for a lot (None for an individual: the service counts one)."""
    return form.count.data if animal.is_lot else None


def _lot_needs_count(form, animal: Animal) -> bool:
    """A lot's page asks how many; an empty count is refused with the service's wording."""
    if animal.is_lot and form.count.data is None and not form.count.errors:
        show_errors(form, {"count": [_("Between 1 and %(n)d animals.", n=animal.quantity)]})
        return True
    return False


def _page(template: str, form, animal: Animal, zone: ZoneInfo, **extra):
    return render_template(template, form=form, zone=zone.key, left_care=animal.status != AnimalStatus.IN_CARE,
                           held=animal.case.evidence_hold, **extra, **header_context(animal)), _status(form)


def _receiving_facilities(animal: Animal) -> list[Facility]:
    """The network's open facilities other than the animal's (a coordinator sends animals to any of them)."""
    return list(db.session.execute(
        select(Facility).where(Facility.is_active.is_(True), Facility.id != animal.facility_id)
        .order_by(Facility.code)).scalars())


@bp.route("/animals/<int:animal_id>/transfer", methods=["GET", "POST"])
@require("transfer.record")
@form_checks_csrf
def transfer_animal(animal_id: int):
    """Animals to another facility of the network: the record moves (part of a lot is split off first)."""
    animal = get_animal(animal_id)
    zone = _zone(animal)
    form = TransferForm()
    facilities = _receiving_facilities(animal)
    form.set_facilities(facilities)
    if not form.is_submitted():
        form.transferred_at.data = _now_local(zone)
        if animal.is_lot:
            form.count.data = animal.quantity
    if form.validate_on_submit() and not _lot_needs_count(form, animal):
        to_facility = next((f for f in facilities if f.id == form.to_facility_id.data), None)
        if to_facility is None:
            show_errors(form, {"to_facility_id": [_("Choose an open facility of the network other than this "
                                                    "one.")]})
        else:
            moved = {}

            def write():
                moved["transfer"] = transfers.transfer_within_network(
                    animal, to_facility=to_facility, user=current_user, count=_count(form, animal),
                    reason=form.reason.data or "", handed_to=form.handed_to.data or "",
                    transferred_at=_aware(form.transferred_at.data, zone))

            if _save(form, write):
                transfer = moved["transfer"]
                moved_animal = db.session.get(Animal, transfer.animal_id)
                flash(_("%(animal)s is now at %(facility)s.", animal=moved_animal.accession_number,
                        facility=to_facility.name), "success")
                if may_see_facility(to_facility.id):
                    return redirect(url_for("animals.animal_record", animal_id=moved_animal.id))
                if moved_animal.id != animal_id:  # part of a lot left; the rest stays here
                    return redirect(url_for("animals.animal_record", animal_id=animal_id))
                return redirect(url_for("animals.animal_list"))
            animal = get_animal(animal_id)  # the session was rolled back
    return _page("releases/transfer_form.html", form, animal, zone, has_facilities=bool(facilities))


@bp.route("/animals/<int:animal_id>/transfer-out", methods=["GET", "POST"])
@require("transfer.record")
@form_checks_csrf
def transfer_out(animal_id: int):
    """Animals handed to an institution outside the network (a zoo, a sanctuary abroad), with its permits."""
    animal = get_animal(animal_id)
    zone = _zone(animal)
    form = TransferOutForm()
    if not form.is_submitted():
        form.occurred_at.data = _now_local(zone)
    if form.validate_on_submit() and not _lot_needs_count(form, animal):
        def write():
            transfers.transfer_out(animal, user=current_user, occurred_at=_aware(form.occurred_at.data, zone),
                                   count=_count(form, animal), institution=form.institution.data or "",
                                   country=form.country.data or "", permit_numbers=form.permit_numbers.data or "",
                                   notes=form.notes.data or "")

        if _save(form, write):
            flash(_("The transfer of %(animal)s to %(institution)s is recorded.", animal=animal.accession_number,
                    institution=form.institution.data.strip()), "success")
            return redirect(url_for("animals.animal_record", animal_id=animal_id))
        animal = get_animal(animal_id)
    return _page("releases/transfer_out_form.html", form, animal, zone)


@bp.route("/animals/<int:animal_id>/escape", methods=["GET", "POST"])
@require("transfer.record")
@form_checks_csrf
def record_escape(animal_id: int):
    """Animals that escaped: they leave care (a recapture is a new intake)."""
    animal = get_animal(animal_id)
    zone = _zone(animal)
    form = EscapeForm()
    if not form.is_submitted():
        form.occurred_at.data = _now_local(zone)
    if form.validate_on_submit() and not _lot_needs_count(form, animal):
        def write():
            transfers.record_escape(animal, user=current_user, occurred_at=_aware(form.occurred_at.data, zone),
                                    count=_count(form, animal), notes=form.notes.data or "")

        if _save(form, write):
            flash(_("The escape of %(animal)s is recorded.", animal=animal.accession_number), "success")
            return redirect(url_for("animals.animal_record", animal_id=animal_id))
        animal = get_animal(animal_id)
    return _page("releases/escape_form.html", form, animal, zone)


@bp.route("/animals/<int:animal_id>/observations/new", methods=["GET", "POST"])
@require("release.observe")
@form_checks_csrf
def new_observation(animal_id: int):
    """A field team's sighting, telemetry fix, animal found dead or recaptured, after its release.

    Everyone who records may type coordinates; the record shows them afterwards only
    to those who may see restricted fields.
    """
    animal = get_animal(animal_id)
    zone = _zone(animal)
    form = ObservationForm()
    if not form.is_submitted():
        form.observed_at.data = _now_local(zone)
    if form.validate_on_submit():
        def write():
            monitoring.record_observation(
                animal, user=current_user, kind=form.kind.data or "", observed_at=_aware(form.observed_at.data, zone),
                count=form.count.data if animal.is_lot else None, latitude=form.latitude.data,
                longitude=form.longitude.data, notes=form.notes.data or "")

        if _save(form, write):
            flash(_("The observation of %(animal)s is recorded.", animal=animal.accession_number), "success")
            return redirect(url_for("animals.animal_record", animal_id=animal_id))
        animal = get_animal(animal_id)
    return render_template("releases/observation_form.html", form=form, zone=zone.key,
                           kind_labels=OBSERVATION_KIND_LABELS, **header_context(animal)), _status(form)
