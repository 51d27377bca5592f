"""Vet listens to outcomes: an animal record that left care has its active prescriptions stopped."""

from sqlalchemy import select

from app.animals.models import AnimalStatus
from app.animals.signals import animal_outcome
from app.extensions import db
from app.vet.models import Prescription, PrescriptionStatus
from app.vet.prescriptions import stop_prescription


def _outcome(_sender, *, animal, outcome, user, **_):
    if animal.status == AnimalStatus.IN_CARE:
        return  # part of a lot left; the rest still takes its medicine
    active = db.session.execute(select(Prescription).where(Prescription.animal_id == animal.id,
                                                           Prescription.status == PrescriptionStatus.ACTIVE)).scalars()
    for prescription in active:
        stop_prescription(prescription, user=None, reason=f"{outcome.kind} {outcome.occurred_at:%Y-%m-%d}",
                          now=outcome.recorded_at)


def connect_receivers() -> None:
    animal_outcome.connect(_outcome)
