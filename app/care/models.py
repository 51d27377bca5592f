"""Daily care: schedules and their templates, the tasks they make, care logs and weights."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.animals.models import Animal, Attachment
from app.auth.models import Facility, User
from app.care.timing import overdue_at_default
from app.common.db import Base, TimestampMixin, VersionedMixin, utcnow
from app.reference.models import Enclosure, Species


class CareKind(StrEnum):
    FEED = "feed"
    CLEAN = "clean"
    ENRICH = "enrich"
    OBSERVE = "observe"
    WEIGH = "weigh"
    MEDICATE = "medicate"


class Eaten(StrEnum):
    """How much of a feed was eaten, as a keeper judges it at a glance."""

    ALL = "all"
    MOST = "most"
    HALF = "half"
    LITTLE = "little"
    NONE = "none"


class DoseResult(StrEnum):
    """What became of one dose of a medication."""

    GIVEN = "given"
    REFUSED = "refused"
    VOMITED = "vomited"
    MISSED = "missed"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class CareTemplate(TimestampMixin, VersionedMixin, Base):
    """A species' (or a whole taxon class's) default schedule, copied onto animals at intake."""

    __tablename__ = "care_templates"
    __table_args__ = (
        CheckConstraint("(species_id IS NULL) <> (taxon_class IS NULL)", name="species_or_class"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    species_id: Mapped[int | None] = mapped_column(ForeignKey("species.id"), index=True)
    taxon_class: Mapped[str | None] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    times: Mapped[list] = mapped_column(JSON, default=list)  # ["08:00", "16:00"], local to the facility
    every_days: Mapped[int | None]
    instructions: Mapped[str] = mapped_column(Text, default="")
    diet_items: Mapped[list] = mapped_column(JSON, default=list)  # [{food, grams, preparation}]
    is_active: Mapped[bool] = mapped_column(default=True)

    species: Mapped[Species | None] = relationship(lazy="raise")


class CareSchedule(TimestampMixin, VersionedMixin, Base):
    """A recurring task for one animal (or lot) or for a whole enclosure."""

    __tablename__ = "care_schedules"
    __table_args__ = (
        CheckConstraint("(animal_id IS NULL) <> (enclosure_id IS NULL)", name="animal_or_enclosure"),
        CheckConstraint("every_days IS NULL OR every_days >= 1", name="every_days_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), index=True)
    animal_id: Mapped[int | None] = mapped_column(ForeignKey("animals.id"), index=True)
    enclosure_id: Mapped[int | None] = mapped_column(ForeignKey("enclosures.id"), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("care_templates.id"))
    kind: Mapped[str] = mapped_column(String(10))
    times: Mapped[list] = mapped_column(JSON, default=list)
    every_days: Mapped[int | None]
    instructions: Mapped[str] = mapped_column(Text, default="")
    diet_items: Mapped[list] = mapped_column(JSON, default=list)
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    # A course (a prescription's doses) has all its tasks made when it is created and
    # ends with its last one; the daily generator leaves it alone.
    is_course: Mapped[bool] = mapped_column(default=False)
    # False: only a vet may complete its tasks (a prescription keepers may not give).
    keeper_may_do: Mapped[bool] = mapped_column(default=True)
    # Tasks are never made due before this instant: a schedule made (or re-timed) at
    # 14:00 has no 08:00 task of today to show as overdue.
    tasks_from: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    facility: Mapped[Facility] = relationship(lazy="raise")
    animal: Mapped[Animal | None] = relationship(lazy="raise")
    enclosure: Mapped[Enclosure | None] = relationship(lazy="raise")

    @property
    def target_label(self) -> str:
        return str(self.animal) if self.animal_id else str(self.enclosure)


class CareTask(Base):
    """One due occurrence of a schedule.

    Overdue is computed when read: an open task whose overdue_at has passed. overdue_at
    is the due time plus the kind's grace (CARE_GRACE_MINUTES), fixed when the task is
    made, so the round and the scheduler's scans compare one indexed column with now.
    A changed grace applies to tasks made after the change.
    """

    __tablename__ = "care_tasks"
    # Tasks are made by the thousand and are projections of schedules; what was done is
    # told by the care log a completion writes, which is audited.
    __audit__ = False
    __table_args__ = (
        UniqueConstraint("schedule_id", "due_at"),
        Index("ix_care_tasks_facility_status_due", "facility_id", "status", "due_at"),
        Index("ix_care_tasks_status_overdue", "status", "overdue_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("care_schedules.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"))
    animal_id: Mapped[int | None] = mapped_column(ForeignKey("animals.id"), index=True)
    enclosure_id: Mapped[int | None] = mapped_column(ForeignKey("enclosures.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    due_at: Mapped[datetime]
    overdue_at: Mapped[datetime] = mapped_column(default=overdue_at_default)
    status: Mapped[str] = mapped_column(String(10), default=TaskStatus.OPEN)
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    schedule: Mapped[CareSchedule | None] = relationship(lazy="raise")
    animal: Mapped[Animal | None] = relationship(lazy="raise")
    enclosure: Mapped[Enclosure | None] = relationship(lazy="raise")
    done_by: Mapped[User | None] = relationship(lazy="raise")
    log: Mapped["CareLog | None"] = relationship(back_populates="task", lazy="raise", uselist=False)


class CareLog(Base):
    """What a keeper did: done_at is the tablet's time, recorded_at the server's."""

    __tablename__ = "care_logs"
    __table_args__ = (
        CheckConstraint("(animal_id IS NULL) <> (enclosure_id IS NULL)", name="animal_or_enclosure"),
        Index("ix_care_logs_animal_done", "animal_id", "done_at"),
        Index("ix_care_logs_enclosure_done", "enclosure_id", "done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The retry key: a resent submission finds the log stored the first time.
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"))
    animal_id: Mapped[int | None] = mapped_column(ForeignKey("animals.id"))
    enclosure_id: Mapped[int | None] = mapped_column(ForeignKey("enclosures.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("care_tasks.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    done_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    late_entry: Mapped[bool] = mapped_column(default=False)
    eaten: Mapped[str | None] = mapped_column(String(10))
    given: Mapped[str | None] = mapped_column(String(10))  # a dose: DoseResult
    appetite: Mapped[str] = mapped_column(String(100), default="")
    stool: Mapped[str] = mapped_column(String(200), default="")
    behaviour: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    head_count: Mapped[int | None]
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))

    task: Mapped[CareTask | None] = relationship(back_populates="log", lazy="raise")
    recorded_by: Mapped[User | None] = relationship(lazy="raise")
    photo: Mapped[Attachment | None] = relationship(lazy="raise")
    weight: Mapped["Weight | None"] = relationship(lazy="raise", uselist=False, viewonly=True)


class Weight(Base):
    """A weighing: grams (to a tenth, for geckos and hatchlings) and body condition 1-9."""

    __tablename__ = "weights"
    __table_args__ = (
        CheckConstraint("grams > 0", name="grams_positive"),
        CheckConstraint("bcs IS NULL OR (bcs BETWEEN 1 AND 9)", name="bcs_range"),
        Index("ix_weights_animal_measured", "animal_id", "measured_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    animal_id: Mapped[int] = mapped_column(ForeignKey("animals.id"))
    measured_at: Mapped[datetime]
    grams: Mapped[Decimal] = mapped_column(Numeric(10, 1))
    bcs: Mapped[int | None]
    late_entry: Mapped[bool] = mapped_column(default=False)
    care_log_id: Mapped[int | None] = mapped_column(ForeignKey("care_logs.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    recorded_by: Mapped[User | None] = relationship(lazy="raise")
