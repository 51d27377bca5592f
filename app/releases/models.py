"""Release criteria and assessments, sites, plans and their animals, post-release observations, transfers."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.animals.models import Animal, Outcome
from app.auth.models import Facility, User
from app.common.db import Base, TimestampMixin, VersionedMixin, utcnow
from app.reference.models import Species


class CriterionKind(StrEnum):
    AUTO = "auto"  # computed from the records
    MANUAL = "manual"  # assessed by a person


class AutoKey(StrEnum):
    """The criteria the records answer; each reads its parameters from the criterion row."""

    QUARANTINE_CLEARED = "quarantine_cleared"
    NO_ACTIVE_PROBLEMS = "no_active_problems"
    NO_RECENT_MEDICATION = "no_recent_medication"  # days
    MIN_WEIGHT = "min_weight"  # min_weight_g and/or min_bcs
    LAB_NEGATIVE = "lab_negative"  # tests
    NO_EVIDENCE_HOLD = "no_evidence_hold"


class AssessmentResult(StrEnum):
    PASS = "pass"  # noqa: S105 - an assessment result, not a password
    FAIL = "fail"


class PlanStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ObservationKind(StrEnum):
    SIGHTING = "sighting"
    TELEMETRY = "telemetry"
    FOUND_DEAD = "found_dead"
    RECAPTURED = "recaptured"


class ReleaseCriterion(TimestampMixin, VersionedMixin, Base):
    """One item of a species' (or a taxon class's) release checklist.

    A species' criterion replaces its class's criterion of the same key; the class's
    other criteria still apply.
    """

    __tablename__ = "release_criteria"
    __table_args__ = (
        CheckConstraint("(species_id IS NULL) <> (taxon_class IS NULL)", name="species_or_class"),
        UniqueConstraint("species_id", "taxon_class", "key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    species_id: Mapped[int | None] = mapped_column(ForeignKey("species.id"), index=True)
    taxon_class: Mapped[str | None] = mapped_column(String(20), index=True)
    key: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(200), default="")  # what a manual criterion asks
    days: Mapped[int | None]  # no_recent_medication
    min_weight_g: Mapped[Decimal | None] = mapped_column(Numeric(10, 1))
    min_bcs: Mapped[int | None]
    tests: Mapped[list] = mapped_column(JSON, default=list)  # lab_negative
    expires_days: Mapped[int | None]  # a manual assessment's validity
    is_active: Mapped[bool] = mapped_column(default=True)

    species: Mapped[Species | None] = relationship(lazy="raise")


class Assessment(Base):
    """A person's pass or fail on a manual criterion for one animal record, valid until expires_at."""

    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_animal_key", "animal_id", "criterion_key", "assessed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    animal_id: Mapped[int] = mapped_column(ForeignKey("animals.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"))
    criterion_key: Mapped[str] = mapped_column(String(40))
    result: Mapped[str] = mapped_column(String(4))
    assessed_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    assessed_by: Mapped[User | None] = relationship(lazy="raise")


class ReleaseSite(TimestampMixin, VersionedMixin, Base):
    """A place animals go back to the wild; its coordinates are restricted."""

    __tablename__ = "release_sites"
    __table_args__ = (
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    protected_area: Mapped[str] = mapped_column(String(200), default="")
    province: Mapped[str] = mapped_column(String(100), default="")
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))  # restricted
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))  # restricted
    habitat: Mapped[str] = mapped_column(Text, default="")
    suitable_taxa: Mapped[list] = mapped_column(JSON, default=list)  # taxon classes
    notes: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(default=True)

    RESTRICTED = ("latitude", "longitude")


class ReleasePlan(TimestampMixin, VersionedMixin, Base):
    """Animals of one facility going to one site on a planned day: draft → approved → completed | cancelled."""

    __tablename__ = "release_plans"
    __table_args__ = (Index("ix_release_plans_facility_status", "facility_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("release_sites.id"), index=True)
    planned_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default=PlanStatus.DRAFT)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    vet_signoff_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    vet_signoff_at: Mapped[datetime | None]
    vet_signoff_notes: Mapped[str] = mapped_column(Text, default="")
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    permit_reference: Mapped[str] = mapped_column(String(200), default="")
    approval_override_reason: Mapped[str] = mapped_column(Text, default="")
    completed_on: Mapped[date | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completion_override_reason: Mapped[str] = mapped_column(Text, default="")
    cancelled_at: Mapped[datetime | None]
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancel_reason: Mapped[str] = mapped_column(Text, default="")

    facility: Mapped[Facility] = relationship(lazy="raise")
    site: Mapped[ReleaseSite] = relationship(lazy="raise")
    vet_signoff_by: Mapped[User | None] = relationship(foreign_keys=[vet_signoff_by_id], lazy="raise")
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id], lazy="raise")
    animals: Mapped[list["PlannedAnimal"]] = relationship(back_populates="plan", lazy="raise",
                                                         cascade="all, delete-orphan", order_by="PlannedAnimal.id")


class PlannedAnimal(Base):
    """An animal record in a plan, with how many of it go (part of a lot) and the outcome once released."""

    __tablename__ = "planned_animals"
    __table_args__ = (
        UniqueConstraint("plan_id", "animal_id"),
        CheckConstraint("count >= 1", name="count_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("release_plans.id"))
    animal_id: Mapped[int] = mapped_column(ForeignKey("animals.id"), index=True)
    count: Mapped[int]
    # Why it was added with readiness criteria unmet (the coordinator's words).
    override_reason: Mapped[str] = mapped_column(Text, default="")
    outcome_id: Mapped[int | None] = mapped_column(ForeignKey("outcomes.id"))

    plan: Mapped[ReleasePlan] = relationship(back_populates="animals", lazy="raise")
    animal: Mapped[Animal] = relationship(lazy="raise")
    outcome: Mapped[Outcome | None] = relationship(lazy="raise")


class Observation(Base):
    """A post-release observation of a released animal: a sighting, a telemetry fix, found dead, recaptured."""

    __tablename__ = "observations"
    __table_args__ = (
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude_range"),
        Index("ix_observations_animal_observed", "animal_id", "observed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    animal_id: Mapped[int] = mapped_column(ForeignKey("animals.id"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("release_plans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    observed_at: Mapped[datetime]
    count: Mapped[int] = mapped_column(default=1)  # animals of a released lot seen (or found dead) together
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))  # restricted
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))  # restricted
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    recorded_by: Mapped[User | None] = relationship(lazy="raise")

    RESTRICTED = ("latitude", "longitude")


class Transfer(Base):
    """An animal record moved to another facility of the network, with the custody hand-over that went with it."""

    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    animal_id: Mapped[int] = mapped_column(ForeignKey("animals.id"), index=True)
    from_facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"))
    to_facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"))
    transferred_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("custody_handovers.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    from_facility: Mapped[Facility] = relationship(foreign_keys=[from_facility_id], lazy="raise")
    to_facility: Mapped[Facility] = relationship(foreign_keys=[to_facility_id], lazy="raise")
