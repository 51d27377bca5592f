"""Case, Animal (an individual or a lot), identifiers, housing moves, custody, holds, photos."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from app.auth.models import Facility, User
from app.common.db import Base, TimestampMixin, VersionedMixin, utcnow
from app.reference.models import Enclosure, Species


class CaseSource(StrEnum):
    ENFORCEMENT_SEIZURE = "enforcement_seizure"
    CUSTOMS_SEIZURE = "customs_seizure"
    MARKET_INSPECTION = "market_inspection"
    HOTLINE_REPORT = "hotline_report"
    VOLUNTARY_SURRENDER = "voluntary_surrender"
    FOUND_INJURED = "found_injured"
    TRANSFER_IN = "transfer_in"
    BORN_IN_CARE = "born_in_care"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"
    MIXED = "mixed"  # a lot of both sexes


class AgeClass(StrEnum):
    NEONATE = "neonate"
    JUVENILE = "juvenile"
    SUBADULT = "subadult"
    ADULT = "adult"
    UNKNOWN = "unknown"
    MIXED = "mixed"


class IntakeCondition(StrEnum):
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"
    CRITICAL = "critical"
    DEAD_ON_ARRIVAL = "dead_on_arrival"


class AnimalStatus(StrEnum):
    """In care, or how the record's last animals left: the outcome that brought its quantity to 0."""

    IN_CARE = "in_care"
    RELEASED = "released"
    TRANSFERRED = "transferred"
    DIED = "died"
    EUTHANIZED = "euthanized"
    ESCAPED = "escaped"


# The list filter for every record no longer in care, whichever way it left.
LEFT_CARE = "left_care"


class Releasability(StrEnum):
    UNDETERMINED = "undetermined"
    CANDIDATE = "candidate"
    NON_RELEASABLE = "non_releasable"


class IdentifierKind(StrEnum):
    MICROCHIP = "microchip"
    RING = "ring"
    TAG = "tag"
    OTHER = "other"


class Sequence(Base):
    """Gap-free counters per name and year (accession numbers, case references).

    A number is taken with an UPDATE that increments the row inside the intake's
    own transaction: concurrent intakes queue on the row lock (PostgreSQL) or the
    write lock (SQLite), and a rolled-back intake gives its number back.
    """

    __tablename__ = "sequences"
    __audit__ = False

    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


class Case(TimestampMixin, VersionedMixin, Base):
    """The seizure or intake event that brings animals in; legal evidence."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(30))
    agency: Mapped[str] = mapped_column(String(200), default="")
    officer: Mapped[str] = mapped_column(String(200), default="")  # restricted
    legal_reference: Mapped[str] = mapped_column(String(200), default="")
    province: Mapped[str] = mapped_column(String(100), default="")
    district: Mapped[str] = mapped_column(String(100), default="")
    place: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))  # restricted
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))  # restricted
    suspect_details: Mapped[str] = mapped_column(Text, default="")  # restricted
    reporter: Mapped[str] = mapped_column(String(300), default="")  # restricted
    notes: Mapped[str] = mapped_column(Text, default="")
    evidence_hold: Mapped[bool] = mapped_column(default=False)
    evidence_hold_since: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    facility: Mapped[Facility] = relationship(lazy="raise")
    created_by: Mapped[User | None] = relationship(lazy="raise")
    animals: WriteOnlyMapped["Animal"] = relationship(back_populates="case")

    # Fields only coordinators and admins may see (DESIGN §3.3).
    RESTRICTED = ("officer", "latitude", "longitude", "suspect_details", "reporter")

    __table_args__ = (
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude_range"),
    )

    def __str__(self) -> str:
        return self.reference


class EvidenceHoldChange(Base):
    """One setting or lifting of a case's evidence hold, with who, when and why."""

    __tablename__ = "evidence_hold_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    active: Mapped[bool]
    # A coordinator confirmed an active hold is still needed (the scheduler asks every HOLD_REVIEW_DAYS).
    is_review: Mapped[bool] = mapped_column(default=False, server_default=false())
    reason: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    changed_by: Mapped[User | None] = relationship(lazy="raise")


class Animal(TimestampMixin, VersionedMixin, Base):
    """One individual, or one lot of the same species admitted together (quantity > 1).

    Quantities reconcile by construction: intake_quantity equals the quantity in
    care, plus the animals that left care (outcomes), plus those split off into
    sub-lots (whose records carry them from then on).
    """

    __tablename__ = "animals"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("intake_quantity >= 1", name="intake_quantity_positive"),
        CheckConstraint("quantity <= intake_quantity", name="quantity_within_intake"),
        Index("ix_animals_facility_status", "facility_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    accession_number: Mapped[str] = mapped_column(String(12), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    species_id: Mapped[int] = mapped_column(ForeignKey("species.id"), index=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"))
    enclosure_id: Mapped[int | None] = mapped_column(ForeignKey("enclosures.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("animals.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    sex: Mapped[str] = mapped_column(String(10), default=Sex.UNKNOWN)
    age_class: Mapped[str] = mapped_column(String(10), default=AgeClass.UNKNOWN)
    intake_condition: Mapped[str] = mapped_column(String(20), default=IntakeCondition.FAIR)
    intake_weight_g: Mapped[int | None]
    intake_quantity: Mapped[int] = mapped_column(default=1)
    quantity: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(12), default=AnimalStatus.IN_CARE)
    releasability: Mapped[str] = mapped_column(String(16), default=Releasability.UNDETERMINED)
    releasability_reason: Mapped[str] = mapped_column(Text, default="")
    admitted_at: Mapped[datetime] = mapped_column(index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Quarantine ends only when a vet clears it (app.vet.quarantine); until then the
    # animal is "in quarantine", whatever the species' usual days say. Kept on the
    # animal (audited with it) so housing can refuse a move out without asking vet.
    quarantine_cleared_on: Mapped[date | None]
    quarantine_cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    quarantine_notes: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship(back_populates="animals", lazy="raise")
    species: Mapped[Species] = relationship(lazy="raise")
    facility: Mapped[Facility] = relationship(lazy="raise")
    enclosure: Mapped[Enclosure | None] = relationship(lazy="raise")
    parent: Mapped["Animal | None"] = relationship(remote_side=[id], lazy="raise")
    identifiers: Mapped[list["Identifier"]] = relationship(
        back_populates="animal", lazy="raise", cascade="all, delete-orphan", order_by="Identifier.id"
    )

    @property
    def is_lot(self) -> bool:
        return self.intake_quantity > 1

    @property
    def in_quarantine(self) -> bool:
        return self.status == AnimalStatus.IN_CARE and self.quarantine_cleared_on is None

    def __str__(self) -> str:
        return self.accession_number


class Identifier(Base):
    """A microchip, ring or tag carried by an individual; unique per kind."""

    __tablename__ = "identifiers"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    animal_id: Mapped[int] = mapped_column(ForeignKey("animals.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    value: Mapped[str] = mapped_column(String(100))

    animal: Mapped[Animal] = relationship(back_populates="identifiers", lazy="raise")


class HousingMove(Base):
    """An animal's move between enclosures; its current enclosure is the last move's."""

    __tablename__ = "housing_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    animal_id: Mapped[int] = mapped_column(ForeignKey("animals.id"), index=True)
    from_enclosure_id: Mapped[int | None] = mapped_column(ForeignKey("enclosures.id"))
    to_enclosure_id: Mapped[int | None] = mapped_column(ForeignKey("enclosures.id"))
    moved_at: Mapped[datetime] = mapped_column(default=utcnow)
    moved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    # Why a coordinator let an animal out of quarantine before a vet cleared it.
    quarantine_override: Mapped[str] = mapped_column(Text, default="")

    from_enclosure: Mapped[Enclosure | None] = relationship(foreign_keys=[from_enclosure_id], lazy="raise")
    to_enclosure: Mapped[Enclosure | None] = relationship(foreign_keys=[to_enclosure_id], lazy="raise")
    moved_by: Mapped[User | None] = relationship(lazy="raise")


class CustodyHandover(Base):
    """A hand-over of a whole case, or of one animal, from one party to another."""

    __tablename__ = "custody_handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    animal_id: Mapped[int | None] = mapped_column(ForeignKey("animals.id"), index=True)
    from_party: Mapped[str] = mapped_column(String(200))
    to_party: Mapped[str] = mapped_column(String(200))
    handed_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(300), default="")
    purpose: Mapped[str] = mapped_column(String(300), default="")
    seal_ids: Mapped[str] = mapped_column(String(300), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    animal: Mapped[Animal | None] = relationship(lazy="raise")


class Attachment(Base):
    """A photo or document of a case or an animal, stored under a generated name."""

    __tablename__ = "attachments"
    __table_args__ = (
        CheckConstraint("(case_id IS NULL) <> (animal_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    animal_id: Mapped[int | None] = mapped_column(ForeignKey("animals.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # photo | document
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    thumbnail_name: Mapped[str | None] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(60))
    size_bytes: Mapped[int]
    original_name: Mapped[str] = mapped_column(String(200), default="")
    caption: Mapped[str] = mapped_column(String(300), default="")
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A necropsy's photos and reports belong to the animal and to the death they explain.
    outcome_id: Mapped[int | None] = mapped_column(ForeignKey("outcomes.id"), index=True)


class OutcomeKind(StrEnum):
    RELEASED = "released"
    TRANSFERRED = "transferred"
    DIED = "died"
    EUTHANIZED = "euthanized"
    ESCAPED = "escaped"


class Outcome(Base):
    """Some (or all) of an animal record's animals leaving care, for good: the count leaves its quantity.

    One model for every way of leaving, so that for every record intake_quantity ==
    quantity + the outcomes' counts + what was split off. The details each kind
    needs sit in their own columns (death: cause and necropsy; euthanasia: reason,
    the vet, and a coordinator's override of an evidence hold).
    """

    __tablename__ = "outcomes"
    __table_args__ = (
        CheckConstraint("count >= 1", name="count_positive"),
        Index("ix_outcomes_animal_occurred", "animal_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    animal_id: Mapped[int] = mapped_column(ForeignKey("animals.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12), index=True)
    count: Mapped[int]
    occurred_at: Mapped[datetime]
    cause: Mapped[str] = mapped_column(Text, default="")  # died
    necropsy_findings: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")  # euthanized
    authorised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the vet
    hold_override_reason: Mapped[str] = mapped_column(Text, default="")
    hold_override_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    institution: Mapped[str] = mapped_column(String(200), default="")  # transferred out
    country: Mapped[str] = mapped_column(String(100), default="")
    permit_numbers: Mapped[str] = mapped_column(String(300), default="")  # CITES and national permits
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    animal: Mapped[Animal] = relationship(lazy="raise")
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id], lazy="raise")
    authorised_by: Mapped[User | None] = relationship(foreign_keys=[authorised_by_id], lazy="raise")
    hold_override_by: Mapped[User | None] = relationship(foreign_keys=[hold_override_by_id], lazy="raise")
