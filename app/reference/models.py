"""Enclosure and Species (Facility lives with accounts, since users belong to facilities)."""

from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Facility
from app.common.db import Base, TimestampMixin, VersionedMixin
from app.common.text import fold


class EnclosureKind(StrEnum):
    CAGE = "cage"
    PEN = "pen"
    AVIARY = "aviary"
    TANK = "tank"
    POND = "pond"
    NIGHT_HOUSE = "night_house"
    FOREST_ENCLOSURE = "forest_enclosure"
    CLINIC = "clinic"
    OTHER = "other"


class TaxonClass(StrEnum):
    MAMMAL = "mammal"
    BIRD = "bird"
    REPTILE = "reptile"
    AMPHIBIAN = "amphibian"
    FISH = "fish"


class IucnStatus(StrEnum):
    EX = "EX"
    EW = "EW"
    CR = "CR"
    EN = "EN"
    VU = "VU"
    NT = "NT"
    LC = "LC"
    DD = "DD"
    NE = "NE"


class CitesAppendix(StrEnum):
    I = "I"  # noqa: E741 - the appendix is called I
    II = "II"
    III = "III"
    NONE = "none"


class KhCategory(StrEnum):
    """Cambodian Forestry Law (2002) art. 48 categories."""

    ENDANGERED = "endangered"
    RARE = "rare"
    COMMON = "common"
    NOT_LISTED = "not_listed"


class Enclosure(TimestampMixin, VersionedMixin, Base):
    """A place animals are housed in, at one facility."""

    __tablename__ = "enclosures"
    __table_args__ = (
        UniqueConstraint("facility_id", "code"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    section: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(30), default=EnclosureKind.OTHER)
    capacity: Mapped[int | None]
    is_quarantine: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)

    facility: Mapped[Facility] = relationship(lazy="raise")

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Species(TimestampMixin, VersionedMixin, Base):
    """A species of the catalogue, with its protection status under three regimes."""

    __tablename__ = "species"

    id: Mapped[int] = mapped_column(primary_key=True)
    scientific_name: Mapped[str] = mapped_column(String(200), unique=True)
    common_name_en: Mapped[str] = mapped_column(String(200))
    common_name_km: Mapped[str] = mapped_column(String(200), default="")
    # Lower-cased, accent-free copy of the three names: what ?q= searches.
    search_text: Mapped[str] = mapped_column(String(700), default="", index=True)
    taxon_class: Mapped[str] = mapped_column(String(20))
    iucn_status: Mapped[str] = mapped_column(String(2), default=IucnStatus.NE)
    cites_appendix: Mapped[str] = mapped_column(String(4), default=CitesAppendix.NONE)
    kh_category: Mapped[str] = mapped_column(String(20), default=KhCategory.NOT_LISTED)
    quarantine_days: Mapped[int] = mapped_column(default=30)
    # How long an animal of this species usually stays before release; None: its class's
    # default (EXPECTED_STAY_DAYS). Longer in care without an assessment is "stalled".
    expected_stay_days: Mapped[int | None]
    zoonosis_note: Mapped[str] = mapped_column(Text, default="")

    def __str__(self) -> str:
        return f"{self.common_name_en} ({self.scientific_name})"


@event.listens_for(Species, "before_insert")
@event.listens_for(Species, "before_update")
def _fill_search_text(_mapper, _connection, species: Species) -> None:
    species.search_text = fold(
        " | ".join([species.scientific_name or "", species.common_name_en or "", species.common_name_km or ""])
    )
