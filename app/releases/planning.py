"""The coordinators' release planning board: who is ready now, who is one criterion short, who is stalled."""

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.animals.models import Animal, AnimalStatus, Releasability
from app.auth.permissions import facility_clause
from app.extensions import db
from app.releases.readiness import Readiness, readiness_of

# Candidates read at most; a centre with more animals in care than this sees the longest in care first.
CAP = 1000


@dataclass
class Board:
    ready: list[Readiness] = field(default_factory=list)
    one_short: list[Readiness] = field(default_factory=list)
    stalled: list[Readiness] = field(default_factory=list)
    candidates: int = 0


def expected_stay_days(animal: Animal) -> int:
    """The species' usual stay before release, else its class's (EXPECTED_STAY_DAYS)."""
    species = animal.species
    if species.expected_stay_days:
        return species.expected_stay_days
    return current_app.config["EXPECTED_STAY_DAYS"].get(species.taxon_class, 180)


def planning_board(*, facility_id: int | None, now: datetime) -> Board:
    """Animals in care that may be released (not residents), sorted into the board's three lists.

    A fixed number of queries: the candidates with species and enclosure, then readiness's reads.
    """
    stmt = (select(Animal).options(joinedload(Animal.species), joinedload(Animal.enclosure))
            .where(facility_clause(Animal.facility_id), Animal.status == AnimalStatus.IN_CARE,
                   Animal.releasability != Releasability.NON_RELEASABLE)
            .order_by(Animal.admitted_at, Animal.id).limit(CAP))
    if facility_id:
        stmt = stmt.where(Animal.facility_id == facility_id)
    animals = list(db.session.execute(stmt).scalars())
    board = Board(candidates=len(animals))
    states = readiness_of(animals, now)
    for animal in animals:
        state = states[animal.id]
        if state.ready:
            board.ready.append(state)
        elif len(state.unmet) == 1:
            board.one_short.append(state)
        if not state.assessed and (now - animal.admitted_at).days > expected_stay_days(animal):
            board.stalled.append(state)
    return board
