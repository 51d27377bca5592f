"""Releases listens to splits: animals split off a lot were assessed with it and keep its assessments."""

from sqlalchemy import select

from app.animals.signals import animal_split
from app.extensions import db
from app.releases.models import Assessment


def _split(_sender, *, parent, child, **_):
    db.session.add_all(
        Assessment(animal_id=child.id, facility_id=a.facility_id, criterion_key=a.criterion_key, result=a.result,
                   assessed_at=a.assessed_at, expires_at=a.expires_at, assessed_by_id=a.assessed_by_id,
                   notes=a.notes, recorded_at=a.recorded_at)
        for a in db.session.execute(select(Assessment).where(Assessment.animal_id == parent.id)).scalars())
    db.session.flush()


def connect_receivers() -> None:
    animal_split.connect(_split)
