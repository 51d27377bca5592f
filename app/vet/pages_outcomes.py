"""Pages where animals leave care through the vet: a death, a euthanasia (and its authorisation), a necropsy.

Each commits once, after the service and the uploads; a refusal re-renders the form
with the service's message next to its field and what was typed kept, and removes
any file already written (files are written before their rows, see
app.animals.attachments). Under an evidence hold the euthanasia page says so before
anything is typed, and whether a coordinator's authorisation is waiting.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.animals.attachments import add_attachment, discard_files
from app.animals.models import Animal, AnimalStatus, Attachment, Outcome, OutcomeKind
from app.animals.pages_animals import header_context
from app.animals.queries import get_animal
from app.auth.models import Facility, User
from app.auth.permissions import require
from app.common.db import utcnow
from app.common.errors import RuleError
from app.common.form_flow import show_errors
from app.common.security import form_checks_csrf
from app.extensions import db
from app.vet import deaths
from app.vet.forms_outcomes import AuthoriseEuthanasiaForm, DeathForm, EuthanasiaForm, NecropsyForm
from app.vet.queries import get_outcome
from app.vet.views import bp


def facility_zone(animal: Animal) -> ZoneInfo:
    """Times on these pages are the wall clock of the animal's facility."""
    return ZoneInfo(db.session.get(Facility, animal.facility_id).timezone)


def _aware(local: datetime | None, zone: ZoneInfo) -> datetime | None:
    return local.replace(tzinfo=zone) if local is not None else None


def _uploads() -> list:
    """The files chosen in the form; a browser sends one empty part when none was chosen."""
    return [upload for upload in request.files.getlist("files") if upload and upload.filename]


def _attach(uploads, *, animal: Animal, outcome: Outcome, caption: str, stored: list[Attachment]) -> None:
    """Store each upload as a document or photo of the animal and of this outcome; `stored` collects them."""
    for upload in uploads:
        attachment = add_attachment(upload.stream, upload.filename, animal=animal, caption=caption,
                                    user=current_user, animal_documents=True)
        stored.append(attachment)
        attachment.outcome_id = outcome.id
    db.session.flush()


def _save(form, write) -> bool:
    """Run write(stored) and commit; on a refusal roll back, remove the files, put the messages on the form."""
    stored: list[Attachment] = []
    try:
        write(stored)
        db.session.commit()
    except RuleError as error:
        db.session.rollback()
        for attachment in stored:
            discard_files(attachment)
        # An upload's message is on "file"; the form's field is "files".
        show_errors(form, {("files" if name == "file" else name): messages
                           for name, messages in error.fields.items()})
        return False
    except (StaleDataError, IntegrityError):
        # Someone changed the record between our read and our write (the lot's quantity, most likely).
        db.session.rollback()
        for attachment in stored:
            discard_files(attachment)
        form.form_errors.append(_("The record changed while you were working. Nothing was saved: check the form "
                                  "and save again."))
        return False
    except BaseException:
        db.session.rollback()
        for attachment in stored:
            discard_files(attachment)
        raise
    return True


def _authorisation(animal: Animal) -> dict:
    """Whether the case is held and, if so, the coordinator's authorisation waiting (and who gave it)."""
    held = animal.case.evidence_hold
    pending = deaths.pending_authorisation(animal) if held else None
    by = db.session.get(User, pending.authorised_by_id) if pending and pending.authorised_by_id else None
    return {"held": held, "pending": pending, "pending_by": by.name if by else "—"}


def _status(form) -> int:
    return 422 if form.errors or form.form_errors else 200


def _outcome_page(animal_id: int, *, euthanasia: bool):
    animal = get_animal(animal_id)
    zone = facility_zone(animal)
    form = EuthanasiaForm() if euthanasia else DeathForm()
    if not form.is_submitted():
        form.occurred_at.data = utcnow().astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    if form.validate_on_submit():
        values = {"occurred_at": _aware(form.occurred_at.data, zone),
                  "count": form.count.data if animal.is_lot else None, "cause": form.cause.data,
                  "necropsy_findings": form.necropsy_findings.data, "notes": form.notes.data}
        uploads = _uploads()

        def write(stored):
            if euthanasia:
                outcome = deaths.record_euthanasia(animal, user=current_user, reason=form.reason.data, **values)
            else:
                outcome = deaths.record_death(animal, user=current_user, **values)
            _attach(uploads, animal=animal, outcome=outcome, caption=_("Necropsy"), stored=stored)

        if _save(form, write):
            flash(_("The euthanasia of %(animal)s is recorded.", animal=animal.accession_number) if euthanasia
                  else _("The death of %(animal)s is recorded.", animal=animal.accession_number), "success")
            return redirect(url_for("animals.animal_record", animal_id=animal_id))
        animal = get_animal(animal_id)  # the session was rolled back
    return render_template("vet/euthanasia_form.html" if euthanasia else "vet/death_form.html", form=form,
                           left_care=animal.status != AnimalStatus.IN_CARE, zone=zone.key,
                           **(_authorisation(animal) if euthanasia else {}), **header_context(animal)), _status(form)


@bp.route("/animals/<int:animal_id>/death/new", methods=["GET", "POST"])
@require("vet.write")
@form_checks_csrf
def record_death(animal_id: int):
    """Animals found dead or dying in care: when, how many (a lot), the cause, the necropsy and its files."""
    return _outcome_page(animal_id, euthanasia=False)


@bp.route("/animals/<int:animal_id>/euthanasia/new", methods=["GET", "POST"])
@require("vet.write")
@form_checks_csrf
def record_euthanasia(animal_id: int):
    """A vet's euthanasia with its reason; under an evidence hold it uses a coordinator's authorisation."""
    return _outcome_page(animal_id, euthanasia=True)


@bp.route("/animals/<int:animal_id>/euthanasia/authorise", methods=["GET", "POST"])
@require("euthanasia.authorise")
@form_checks_csrf
def authorise_euthanasia(animal_id: int):
    """A coordinator overrides the case's evidence hold for one euthanasia of this animal, saying why."""
    animal = get_animal(animal_id)
    form = AuthoriseEuthanasiaForm()
    if form.validate_on_submit():
        def write(_stored):
            deaths.authorise_euthanasia(animal, user=current_user, reason=form.reason.data)

        if _save(form, write):
            flash(_("A vet may now euthanise %(animal)s despite the evidence hold.", animal=animal.accession_number),
                  "success")
            return redirect(url_for("animals.animal_record", animal_id=animal_id))
        animal = get_animal(animal_id)
    return render_template("vet/euthanasia_authorise.html", form=form, left_care=animal.status != AnimalStatus.IN_CARE,
                           **_authorisation(animal), **header_context(animal)), _status(form)


def _outcome_files(outcome_id: int) -> list[Attachment]:
    """The files already kept with this death (a handful)."""
    return list(db.session.execute(
        select(Attachment).where(Attachment.outcome_id == outcome_id).order_by(Attachment.uploaded_at, Attachment.id)
    ).scalars())


@bp.route("/outcomes/<int:outcome_id>/necropsy", methods=["GET", "POST"])
@require("vet.write")
@form_checks_csrf
def add_necropsy(outcome_id: int):
    """Necropsy findings and the lab's photos or report, added to a death days after it was recorded.

    Files alone are accepted (the lab's report may say it all); with neither, the
    service asks for the findings.
    """
    outcome = get_outcome(outcome_id)
    if outcome.kind not in (OutcomeKind.DIED, OutcomeKind.EUTHANIZED):
        abort(404)
    animal = get_animal(outcome.animal_id)
    form = NecropsyForm()
    if form.validate_on_submit():
        uploads = _uploads()

        def write(stored):
            if (form.necropsy_findings.data or "").strip() or not uploads:
                deaths.add_necropsy_findings(outcome, findings=form.necropsy_findings.data, user=current_user)
            _attach(uploads, animal=animal, outcome=outcome, caption=_("Necropsy"), stored=stored)

        if _save(form, write):
            flash(_("The necropsy of %(animal)s is saved.", animal=animal.accession_number), "success")
            return redirect(url_for("animals.animal_record", animal_id=animal.id))
        outcome = get_outcome(outcome_id)
        animal = get_animal(outcome.animal_id)
    return render_template("vet/necropsy_form.html", form=form, outcome=outcome, files=_outcome_files(outcome.id),
                           **header_context(animal)), _status(form)
