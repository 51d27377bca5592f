"""Alert, JobRun and SchedulerLease: what the jobs found, what each run did, and who runs them."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.animals.models import Animal, Case
from app.auth.models import Facility, User
from app.care.models import CareTask
from app.common.db import Base, utcnow


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"  # seen and being dealt with; still resolves itself when its condition clears
    RESOLVED = "resolved"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


# The partial unique index below and the jobs' ON CONFLICT clause must name the same rows.
UNRESOLVED = text("status <> 'resolved'")


class Alert(Base):
    """Something a job found that a person should see: one unresolved alert per dedup key.

    The dedup key names the thing and the episode (a task, an animal and its latest weight,
    a case and its last review), so a job run twice, or two runs overlapping, never raises
    it twice. A job resolves its alerts when their condition clears (resolved_by empty);
    a person may resolve one by hand, and the same key is then not raised again.
    reference_at and reference_value carry the figures the message shows: when the task
    was due, when the last weight was taken, the percentage lost, when an assessment expires.
    """

    __tablename__ = "alerts"
    # Alerts are the jobs' output and carry their own who and when for every change.
    __audit__ = False
    __table_args__ = (
        Index("uq_alerts_unresolved_key", "dedup_key", unique=True,
              sqlite_where=UNRESOLVED, postgresql_where=UNRESOLVED),
        # The jobs look every finding's key up among all alerts, resolved by hand ones included.
        Index("ix_alerts_dedup_key", "dedup_key"),
        Index("ix_alerts_status_facility", "status", "facility_id"),
        Index("ix_alerts_kind_status", "kind", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    dedup_key: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(12), default=AlertStatus.OPEN)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"))
    animal_id: Mapped[int | None] = mapped_column(ForeignKey("animals.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("care_tasks.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    reference_at: Mapped[datetime | None]
    reference_value: Mapped[float | None]
    raised_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    facility: Mapped[Facility] = relationship(lazy="raise")
    animal: Mapped[Animal | None] = relationship(lazy="raise")
    task: Mapped[CareTask | None] = relationship(lazy="raise")
    case: Mapped[Case | None] = relationship(lazy="raise")
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id], lazy="raise")
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id], lazy="raise")


class JobRunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobRun(Base):
    """One run of one job: when, as of which time, how many items it touched, and any error.

    A run started by the scheduler names its trigger (scheduled_for); the unique
    constraint lets only one process claim a trigger even if two schedulers act at once.
    Runs by hand (`scheduler run-once`) leave it empty.
    """

    __tablename__ = "job_runs"
    __audit__ = False
    __table_args__ = (
        UniqueConstraint("job", "scheduled_for"),
        Index("ix_job_runs_job_started", "job", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    scheduled_for: Mapped[datetime | None]
    as_of: Mapped[datetime]  # the `now` the job was given
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(10), default=JobRunStatus.RUNNING)
    items: Mapped[int | None]
    error: Mapped[str] = mapped_column(Text, default="")
    runner: Mapped[str] = mapped_column(String(200), default="")  # host:pid, or "cli"


class SchedulerLease(Base):
    """The one row that says which scheduler process may run jobs, until when.

    The holder renews it well before it expires; another scheduler takes it only once
    it has expired (the holder died or hung), so at most one acts at a time.
    """

    __tablename__ = "scheduler_leases"
    __audit__ = False

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestMark(Base):
    """Up to when each user has had new alerts emailed to them."""

    __tablename__ = "alert_digest_marks"
    __audit__ = False

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    sent_until: Mapped[datetime]
