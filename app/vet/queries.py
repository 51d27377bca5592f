"""Reads of medical records, limited to the user's facilities (a record elsewhere is a 404)."""

from dataclasses import dataclass

from flask import abort
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from app.animals.models import Outcome
from app.auth.permissions import facility_clause
from app.extensions import db
from app.vet.models import Exam, LabResult, Prescription, Problem, ProblemStatus, QuarantineTest


def _one_or_404(stmt):
    row = db.session.execute(stmt).scalar_one_or_none()
    return row if row is not None else abort(404)


def exams_stmt(animal_id: int) -> Select:
    """An animal's exams, newest first, with the vet who examined."""
    return (select(Exam).options(joinedload(Exam.examined_by)).where(Exam.animal_id == animal_id)
            .order_by(Exam.examined_at.desc(), Exam.id.desc()))


def problems_stmt(animal_id: int, status: str | None = None) -> Select:
    """An animal's problems, active first, then newest."""
    stmt = (select(Problem).where(Problem.animal_id == animal_id)
            .order_by((Problem.status == ProblemStatus.RESOLVED), Problem.onset_on.desc().nulls_last(),
                      Problem.id.desc()))
    return stmt.where(Problem.status == status) if status else stmt


def get_problem(problem_id: int) -> Problem:
    return _one_or_404(select(Problem).where(Problem.id == problem_id, facility_clause(Problem.facility_id)))


def prescriptions_stmt(animal_id: int) -> Select:
    """An animal's prescriptions, active first, then newest, with the prescribing vet."""
    return (select(Prescription).options(joinedload(Prescription.prescribed_by))
            .where(Prescription.animal_id == animal_id)
            .order_by(Prescription.status, Prescription.prescribed_at.desc(), Prescription.id.desc()))


def get_prescription(prescription_id: int) -> Prescription:
    return _one_or_404(select(Prescription).where(Prescription.id == prescription_id,
                                                  facility_clause(Prescription.facility_id)))


def lab_results_stmt(animal_id: int) -> Select:
    """An animal's lab results, pending first, then newest sample, with the file if any."""
    return (select(LabResult).options(joinedload(LabResult.attachment)).where(LabResult.animal_id == animal_id)
            .order_by(LabResult.interpretation.is_not(None), LabResult.sampled_on.desc(), LabResult.id.desc()))


def get_lab_result(lab_id: int) -> LabResult:
    return _one_or_404(select(LabResult).where(LabResult.id == lab_id, facility_clause(LabResult.facility_id)))


def quarantine_tests_stmt() -> Select:
    return (select(QuarantineTest).options(joinedload(QuarantineTest.species))
            .order_by(QuarantineTest.taxon_class.nulls_last(), QuarantineTest.species_id, QuarantineTest.test))


def get_quarantine_test(test_id: int) -> QuarantineTest:
    return db.get_or_404(QuarantineTest, test_id)


def outcomes_stmt(animal_id: int) -> Select:
    return select(Outcome).where(Outcome.animal_id == animal_id).order_by(Outcome.occurred_at, Outcome.id)


def get_outcome(outcome_id: int) -> Outcome:
    return _one_or_404(select(Outcome).where(Outcome.id == outcome_id, facility_clause(Outcome.facility_id)))


# --- capped lists: the first rows and how many there are -------------------------------------

@dataclass(frozen=True)
class Listed:
    """The first rows of a list and how many there are in all."""

    rows: list
    total: int

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.rows))


def listed(stmt: Select, limit: int) -> Listed:
    """The first `limit` rows of a one-entity statement with the full count, in one query (a window count)."""
    rows = db.session.execute(stmt.add_columns(func.count().over()).limit(limit)).all()
    return Listed([row[0] for row in rows], rows[0][1] if rows else 0)
