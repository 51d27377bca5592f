"""The alert jobs: each reads one concern across every facility and keeps its alerts in step.

Each is a plain function (now) -> int, the number of alerts it raised; app/scheduler.py
runs them. They only flush: run_job commits once per job.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.alerts import findings
from app.alerts.engine import sync_alerts
from app.animals.models import Animal
from app.extensions import db
from app.releases.readiness import readiness_of

# Readiness is read for this many candidates at a time (its queries take id lists).
READINESS_CHUNK = 500


def flag_overdue_care(now: datetime) -> int:
    """Open care tasks and doses past their grace: warning, critical past twice the grace.

    The alert of a task resolves once it is done or cancelled.
    """
    return sync_alerts(("care_overdue", "dose_overdue"), findings.overdue_tasks(now), now=now)


def flag_weights(now: datetime) -> int:
    """Animals with no weight in WEIGHT_ALERT_DAYS, and weight losses of WEIGHT_LOSS_PERCENT in WEIGHT_LOSS_DAYS."""
    return sync_alerts(("weight_missing", "weight_loss"), findings.weight_missing(now), findings.weight_loss(now),
                       now=now)


def flag_quarantine(now: datetime) -> int:
    """For vets: quarantines ending within QUARANTINE_ENDING_DAYS, and those past their end not cleared."""
    return sync_alerts(("quarantine_ending", "quarantine_overdue"), findings.quarantine_ending(now),
                       findings.quarantine_overdue(now), now=now)


def flag_release_readiness(now: datetime) -> int:
    """For coordinators: animals that became ready, readiness reviews overdue, assessments expiring.

    SQL narrows "ready" to the candidates (in care, cleared, not held, not planned, not
    residents); the per-species checklists are then read for those alone, in chunks.
    """
    candidate_ids = db.session.execute(findings.release_candidates().order_by(Animal.id)).scalars().all()
    ready: list[int] = []
    for start in range(0, len(candidate_ids), READINESS_CHUNK):
        chunk = db.session.execute(
            select(Animal).options(joinedload(Animal.species))
            .where(Animal.id.in_(candidate_ids[start:start + READINESS_CHUNK]))
        ).scalars().all()
        ready.extend(animal_id for animal_id, state in readiness_of(chunk, now).items() if state.ready)
    return sync_alerts(("release_ready", "readiness_review", "assessment_expiring"), findings.release_ready(ready),
                       findings.readiness_review(now), findings.assessment_expiring(now), now=now)


def flag_evidence_holds(now: datetime) -> int:
    """For coordinators: evidence holds set or last reviewed more than HOLD_REVIEW_DAYS ago."""
    return sync_alerts(("hold_review",), findings.hold_review(now), now=now)

