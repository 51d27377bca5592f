"""Deaths and euthanasia: outcomes a vet records, and the override an evidence hold needs. Flushes.

A death is a fact and is always recorded. A euthanasia is a decision: only a vet
records it, with a reason, and while the animal's case is under an evidence hold it
needs a coordinator's authorisation first (EuthanasiaAuthorisation, with its reason),
which the euthanasia uses up and copies onto its outcome. Either way the animal's
active prescriptions stop and its open tasks are cancelled when it leaves care
(receivers of animal_outcome).
"""

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.animals.models import Animal, Case, Outcome, OutcomeKind
from app.animals.outcomes import record_outcome
from app.auth.models import User
from app.common.db import utcnow
from app.extensions import db
from app.vet.models import EuthanasiaAuthorisation
from app.vet.services import VetError, _text, check_facility, check_in_care


def record_death(animal: Animal, *, user: User | None, occurred_at: datetime | None, count: int | None = None,
                 now: datetime | None = None, **values) -> Outcome:
    """Animals found dead or dying in care: the cause as far as known, and the necropsy's findings."""
    check_facility(user, animal)
    return record_outcome(animal, kind=OutcomeKind.DIED, count=count, occurred_at=occurred_at, user=user, now=now,
                          cause=_text(values, "cause"), necropsy_findings=_text(values, "necropsy_findings"),
                          notes=_text(values, "notes"))


def _valid_authorisation(animal_id: int, now: datetime) -> EuthanasiaAuthorisation | None:
    hours = current_app.config["EUTHANASIA_AUTHORISATION_HOURS"]
    return db.session.execute(
        select(EuthanasiaAuthorisation)
        .where(EuthanasiaAuthorisation.animal_id == animal_id, EuthanasiaAuthorisation.outcome_id.is_(None),
               EuthanasiaAuthorisation.authorised_at >= now - timedelta(hours=hours))
        .order_by(EuthanasiaAuthorisation.authorised_at.desc()).limit(1)
    ).scalar_one_or_none()


def authorise_euthanasia(animal: Animal, *, user: User | None, reason: str, now: datetime | None = None
                         ) -> EuthanasiaAuthorisation:
    """A coordinator overrides the evidence hold for one euthanasia of this record, saying why."""
    now = now or utcnow()
    check_in_care(animal)
    check_facility(user, animal)
    reason = (reason or "").strip()
    if not reason:
        raise VetError({"reason": [_("Say why the evidence hold may be overridden for this animal.")]})
    if not db.session.get(Case, animal.case_id).evidence_hold:
        raise VetError({"reason": [_("The case is not under an evidence hold: the vet needs no authorisation.")]})
    row = EuthanasiaAuthorisation(animal_id=animal.id, reason=reason, authorised_at=now,
                                  authorised_by_id=user.id if user else None)
    db.session.add(row)
    db.session.flush()
    return row


def pending_authorisation(animal: Animal, now: datetime | None = None) -> EuthanasiaAuthorisation | None:
    """The coordinator's authorisation a euthanasia of this animal would use now, if any."""
    return _valid_authorisation(animal.id, now or utcnow())


def record_euthanasia(animal: Animal, *, user: User | None, occurred_at: datetime | None, reason: str,
                      count: int | None = None, now: datetime | None = None, **values) -> Outcome:
    """A vet's euthanasia, with its reason. Under an evidence hold it needs a coordinator's authorisation."""
    now = now or utcnow()
    check_facility(user, animal)
    reason = (reason or "").strip()
    if not reason:
        raise VetError({"reason": [_("Say why the animal was euthanised.")]})
    case = db.session.get(Case, animal.case_id)
    authorisation = None
    if case.evidence_hold:
        authorisation = _valid_authorisation(animal.id, now)
        if authorisation is None:
            raise VetError({"evidence_hold": [_(
                "Case %(case)s is under an evidence hold: the animals are evidence and may not be euthanised "
                "unless a coordinator authorises it, with a reason, on this animal's page.", case=case.reference)]})
    outcome = record_outcome(
        animal, kind=OutcomeKind.EUTHANIZED, count=count, occurred_at=occurred_at, user=user, now=now, reason=reason,
        authorised_by_id=user.id if user else None, cause=_text(values, "cause"),
        necropsy_findings=_text(values, "necropsy_findings"), notes=_text(values, "notes"),
        hold_override_reason=authorisation.reason if authorisation else None,
        hold_override_by_id=authorisation.authorised_by_id if authorisation else None,
    )
    if authorisation is not None:
        authorisation.outcome_id = outcome.id
        db.session.flush()
    return outcome


def add_necropsy_findings(outcome: Outcome, *, findings: str, user: User | None) -> Outcome:
    """Necropsy findings come days after the death: add them to the outcome (audited, like any change)."""
    if outcome.kind not in (OutcomeKind.DIED, OutcomeKind.EUTHANIZED):
        raise VetError({"necropsy_findings": [_("Only a death has a necropsy.")]})
    check_facility(user, db.session.get(Animal, outcome.animal_id))
    findings = (findings or "").strip()
    if not findings:
        raise VetError({"necropsy_findings": [_("Write the findings.")]})
    outcome.necropsy_findings = f"{outcome.necropsy_findings}\n\n{findings}".strip()
    db.session.flush()
    return outcome
