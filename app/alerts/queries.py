"""Reading alerts: only the kinds the user's role is for, at the user's facilities."""

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from app.alerts.kinds import kinds_for
from app.alerts.models import Alert, AlertStatus, JobRun, Severity
from app.animals.models import Animal
from app.auth.models import User
from app.auth.permissions import facility_clause
from app.care.models import CareTask
from app.extensions import db

SEVERITY_ORDER = case({Severity.CRITICAL.value: 0, Severity.WARNING.value: 1}, value=Alert.severity, else_=2)


def visible_clause():
    """The alerts the current user is for: their role's kinds, at their facilities."""
    return and_(Alert.kind.in_(kinds_for(current_user.role)), facility_clause(Alert.facility_id))


UNRESOLVED = "unresolved"


def alerts_stmt(*, status: str | None = UNRESOLVED, kind: str | None = None, animal_id: int | None = None,
                facility_id: int | None = None) -> Select:
    """Alerts with their subject loaded (animal and species, task and its subject, case), worst and newest first.

    status "unresolved" lists open and acknowledged ones, as the inbox shows them by default;
    "open", "acknowledged" and "resolved" list only those; None lists all.
    """
    stmt = (select(Alert)
            .options(joinedload(Alert.animal).joinedload(Animal.species), joinedload(Alert.case),
                     joinedload(Alert.facility),
                     joinedload(Alert.task).joinedload(CareTask.enclosure),
                     # Only their names are shown: not the users' facilities (a selectin load each).
                     joinedload(Alert.acknowledged_by).lazyload(User.facilities),
                     joinedload(Alert.resolved_by).lazyload(User.facilities))
            .where(visible_clause())
            .order_by(SEVERITY_ORDER, Alert.raised_at.desc(), Alert.id.desc()))
    if status == UNRESOLVED:
        stmt = stmt.where(Alert.status != AlertStatus.RESOLVED)
    elif status:
        stmt = stmt.where(Alert.status == status)
    if kind:
        stmt = stmt.where(Alert.kind == kind)
    if animal_id:
        stmt = stmt.where(Alert.animal_id == animal_id)
    if facility_id:
        stmt = stmt.where(Alert.facility_id == facility_id)
    return stmt


def get_alert(alert_id: int) -> Alert:
    """One alert the user may see, subject loaded, or 404."""
    alert = db.session.execute(alerts_stmt(status=None).where(Alert.id == alert_id)).unique().scalar_one_or_none()
    return alert if alert is not None else abort(404)


def new_alert_count() -> int:
    """Open alerts not yet acknowledged, for the navigation's badge (one COUNT)."""
    return db.session.execute(
        select(func.count()).select_from(Alert).where(visible_clause(), Alert.status == AlertStatus.OPEN)
    ).scalar_one()


def job_runs_stmt(*, job: str | None = None, status: str | None = None) -> Select:
    stmt = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc())
    if job:
        stmt = stmt.where(JobRun.job == job)
    if status:
        stmt = stmt.where(JobRun.status == status)
    return stmt


def last_runs(names: list[str]) -> dict[str, JobRun]:
    """The newest run of each job, by job name (one query; a job never run is absent)."""
    if not names:
        return {}
    newest = [select(JobRun.id).where(JobRun.job == name).order_by(JobRun.started_at.desc(), JobRun.id.desc())
              .limit(1).scalar_subquery() for name in names]
    rows = db.session.execute(select(JobRun).where(or_(*(JobRun.id == run_id for run_id in newest)))).scalars()
    return {run.job: run for run in rows}
