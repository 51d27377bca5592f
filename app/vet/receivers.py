"""Vet listens to animals: a record that left care has its active prescriptions stopped; a record
transferred to another facility takes its medical records there (its vets see and continue them)."""

from sqlalchemy import select, update

from app.animals.models import AnimalStatus
from app.animals.signals import animal_outcome, animal_transferred
from app.extensions import db
from app.vet.models import Exam, LabResult, Prescription, PrescriptionStatus, Problem
from app.vet.prescriptions import stop_prescription


def _outcome(_sender, *, animal, outcome, user, **_):
    if animal.status == AnimalStatus.IN_CARE:
        return  # part of a lot left; the rest still takes its medicine
    active = db.session.execute(select(Prescription).where(Prescription.animal_id == animal.id,
                                                           Prescription.status == PrescriptionStatus.ACTIVE)).scalars()
    for prescription in active:
        stop_prescription(prescription, user=None, reason=f"{outcome.kind} {outcome.occurred_at:%Y-%m-%d}",
                          now=outcome.recorded_at)


def _transferred(_sender, *, animal, **_):
    for model in (Exam, Problem, Prescription, LabResult):
        db.session.execute(update(model).where(model.animal_id == animal.id).values(facility_id=animal.facility_id)
                           .execution_options(synchronize_session=False))


def connect_receivers() -> None:
    animal_outcome.connect(_outcome)
    animal_transferred.connect(_transferred)
