"""Gap-free yearly numbers: accession numbers (2026-00123) and case references (C-2026-0042)."""

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite

from app.animals.models import Sequence
from app.extensions import db


def take_numbers(name: str, year: int, count: int = 1) -> list[int]:
    """Reserve `count` consecutive numbers of a yearly sequence, in the caller's transaction.

    The row is created on first use (ON CONFLICT DO NOTHING, so two first users do
    not collide) and then incremented with UPDATE ... RETURNING: the row stays locked
    until the caller commits, so concurrent intakes get consecutive, unique numbers,
    and a rolled-back intake gives its numbers back — no gaps, no reuse.
    """
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(Sequence).values(name=name, year=year, last_value=0).on_conflict_do_nothing()
    )
    last = db.session.execute(
        update(Sequence)
        .where(Sequence.name == name, Sequence.year == year)
        .values(last_value=Sequence.last_value + count)
        .returning(Sequence.last_value)
    ).scalar_one()
    return list(range(last - count + 1, last + 1))


def accession_numbers(year: int, count: int) -> list[str]:
    return [f"{year}-{n:05d}" for n in take_numbers("accession", year, count)]


def case_reference(year: int) -> str:
    return f"C-{year}-{take_numbers('case', year)[0]:04d}"
