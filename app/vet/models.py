"""Medical records: exams, problems, prescriptions, lab results, quarantine tests, euthanasia authorisations.

Each row carries the facility where it was made, so the vet dashboard and the
facility checks read one column. Exams and lab results are not edited once made
(a lab result gets its result once, when it comes back): a medical record is evidence.
"""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.animals.models import Animal, Attachment
from app.auth.models import User
from app.care.models import CareSchedule, Weight
from app.common.db import Base, TimestampMixin, VersionedMixin, utcnow
from app.reference.models import Species


class ProblemStatus(StrEnum):
    ACTIVE = "active"
    RESOLVED = "resolved"


class Frequency(StrEnum):
    """Named frequencies; "q<N>h" (every N hours) is accepted besides these."""

    SID = "SID"
    BID = "BID"
    TID = "TID"
    QID = "QID"


class Route(StrEnum):
    PO = "PO"  # by mouth
    SC = "SC"
    IM = "IM"
    IV = "IV"
    TOPICAL = "topical"
    OPHTHALMIC = "ophthalmic"
    INHALED = "inhaled"
    OTHER = "other"


class PrescriptionStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"


class Interpretation(StrEnum):
    NEGATIVE = "negative"
    POSITIVE = "positive"
    INCONCLUSIVE = "inconclusive"


class Exam(Base):
    """A clinical examination; its weight is also a weighing in the animal's weight history."""

    __tablename__ = "exams"
    __table_args__ = (
        CheckConstraint("bcs IS NULL OR (bcs BETWEEN 1 AND 9)", name="bcs_range"),
        Index("ix_exams_animal_examined", "animal_id", "examined_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    animal_id: Mapped[int] = mapped_column(ForeignKey("animals.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"))
    examined_at: Mapped[datetime]
    examined_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    weight_g: Mapped[Decimal | None] = mapped_column(Numeric(10, 1))
    bcs: Mapped[int | None]
    weight_id: Mapped[int | None] = mapped_column(ForeignKey("weights.id"))
    temperature_c: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    findings: Mapped[str] = mapped_column(Text, default="")
    assessment: Mapped[str] = mapped_column(Text, default="")
    plan: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    animal: Mapped[Animal] = relationship(lazy="raise")
    examined_by: Mapped[User | None] = relationship(lazy="raise")
    weight: Mapped[Weight | None] = relationship(lazy="raise")


class Problem(TimestampMixin, VersionedMixin, Base):
    """One entry of an animal's problem list: a diagnosis from its onset to its resolution."""

    __tablename__ = "problems"
    __table_args__ = (Index("ix_problems_animal_status", "animal_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    animal_id: Mapped[int] = mapped_column(ForeignKey("animals.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), index=True)
    diagnosis: Mapped[str] = mapped_column(String(300))
    onset_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(10), default=ProblemStatus.ACTIVE)
    resolved_on: Mapped[date | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    animal: Mapped[Animal] = relationship(lazy="raise")


class Prescription(TimestampMixin, VersionedMixin, Base):
    """A drug for an animal (per animal, for a lot), its dose worked out from the latest weight.

    The dose in mg, the volume in ml and the weight used are stored as they were when
    prescribed: what the keeper gives is what the vet saw. The doses are the tasks of
    the course (a care schedule with is_course set) made when it is prescribed.
    """

    __tablename__ = "prescriptions"
    __table_args__ = (
        CheckConstraint("dose_mg_per_kg > 0", name="dose_positive"),
        CheckConstraint("concentration_mg_per_ml IS NULL OR concentration_mg_per_ml > 0",
                        name="concentration_positive"),
        Index("ix_prescriptions_animal_status", "animal_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    animal_id: Mapped[int] = mapped_column(ForeignKey("animals.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), index=True)
    drug: Mapped[str] = mapped_column(String(120))
    dose_mg_per_kg: Mapped[Decimal] = mapped_column(Numeric(10, 4))
    concentration_mg_per_ml: Mapped[Decimal | None] = mapped_column(Numeric(10, 4))
    route: Mapped[str] = mapped_column(String(12))
    frequency: Mapped[str] = mapped_column(String(6))
    starts_on: Mapped[date]
    days: Mapped[int]
    ends_on: Mapped[date]
    doses: Mapped[int]
    instructions: Mapped[str] = mapped_column(Text, default="")
    keeper_may_give: Mapped[bool] = mapped_column(default=False)
    dose_mg: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    volume_ml: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    weight_id: Mapped[int | None] = mapped_column(ForeignKey("weights.id"))
    weight_g_used: Mapped[Decimal] = mapped_column(Numeric(10, 1))
    weight_measured_at: Mapped[datetime]
    weight_was_stale: Mapped[bool] = mapped_column(default=False)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("care_schedules.id"))
    status: Mapped[str] = mapped_column(String(10), default=PrescriptionStatus.ACTIVE)
    prescribed_at: Mapped[datetime] = mapped_column(default=utcnow)
    prescribed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    stopped_at: Mapped[datetime | None]
    stopped_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    stop_reason: Mapped[str] = mapped_column(Text, default="")

    animal: Mapped[Animal] = relationship(lazy="raise")
    schedule: Mapped[CareSchedule | None] = relationship(lazy="raise")
    prescribed_by: Mapped[User | None] = relationship(foreign_keys=[prescribed_by_id], lazy="raise")


class LabResult(TimestampMixin, VersionedMixin, Base):
    """A sample sent for a test; pending until its interpretation is recorded."""

    __tablename__ = "lab_results"
    __table_args__ = (Index("ix_lab_results_animal_sampled", "animal_id", "sampled_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    animal_id: Mapped[int] = mapped_column(ForeignKey("animals.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), index=True)
    test: Mapped[str] = mapped_column(String(120))
    sampled_on: Mapped[date]
    result: Mapped[str] = mapped_column(Text, default="")
    interpretation: Mapped[str | None] = mapped_column(String(12))  # None: pending
    resulted_on: Mapped[date | None]
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    animal: Mapped[Animal] = relationship(lazy="raise")
    attachment: Mapped[Attachment | None] = relationship(lazy="raise")

    @property
    def is_pending(self) -> bool:
        return self.interpretation is None


class QuarantineTest(Base):
    """A test a species (or a whole taxon class) must have a result for before quarantine is cleared."""

    __tablename__ = "quarantine_tests"
    __table_args__ = (
        CheckConstraint("(species_id IS NULL) <> (taxon_class IS NULL)", name="species_or_class"),
        UniqueConstraint("species_id", "taxon_class", "test"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    species_id: Mapped[int | None] = mapped_column(ForeignKey("species.id"), index=True)
    taxon_class: Mapped[str | None] = mapped_column(String(20), index=True)
    test: Mapped[str] = mapped_column(String(120))

    species: Mapped[Species | None] = relationship(lazy="raise")


class EuthanasiaAuthorisation(Base):
    """A coordinator's override of an evidence hold so that a vet may euthanise one animal record.

    Used once: the euthanasia that relies on it records it (outcome_id) and copies its
    reason and author onto the outcome.
    """

    __tablename__ = "euthanasia_authorisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    animal_id: Mapped[int] = mapped_column(ForeignKey("animals.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    authorised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    authorised_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome_id: Mapped[int | None] = mapped_column(ForeignKey("outcomes.id"))

    authorised_by: Mapped[User | None] = relationship(lazy="raise")
