"""User, Facility and their memberships; server-side login sessions; API tokens."""

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.common.db import Base, TimestampMixin, VersionedMixin, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    VET = "vet"
    KEEPER = "keeper"
    VIEWER = "viewer"


class FacilityKind(StrEnum):
    RESCUE_CENTRE = "rescue_centre"
    RELEASE_STATION = "release_station"
    SANCTUARY = "sanctuary"


# Roles that see every facility when they have no membership (network-wide staff).
NETWORK_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR})

user_facilities = Table(
    "user_facilities",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("facility_id", ForeignKey("facilities.id", ondelete="CASCADE"), primary_key=True),
)


class Facility(TimestampMixin, VersionedMixin, Base):
    """A rescue centre, release station or sanctuary of the network."""

    __tablename__ = "facilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default=FacilityKind.RESCUE_CENTRE)
    province: Mapped[str] = mapped_column(String(100), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Phnom_Penh")
    is_active: Mapped[bool] = mapped_column(default=True)

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class User(TimestampMixin, VersionedMixin, Base):
    """A person who signs in. Email is the login and is stored lower-case."""

    __tablename__ = "users"
    __audit_exclude__ = frozenset({"password_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    last_login_at: Mapped[datetime | None]

    facilities: Mapped[list[Facility]] = relationship(
        secondary=user_facilities, lazy="selectin", order_by=Facility.code
    )

    # Set by the login machinery: the server-side session this request belongs to.
    login_session_id: ClassVar[str | None] = None

    # Flask-Login protocol.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str | None:
        # The session cookie names the server-side session, not the user, so that
        # ending that row on the server ends the session (see auth.sessions).
        return self.login_session_id

    @property
    def is_network_wide(self) -> bool:
        return self.role in NETWORK_ROLES and not self.facilities

    @property
    def facility_ids(self) -> frozenset[int] | None:
        """The facilities this user may see, or None for every facility."""
        if self.is_network_wide:
            return None
        return frozenset(f.id for f in self.facilities)

    @property
    def display_timezone(self) -> str | None:
        return self.facilities[0].timezone if self.facilities else None

    def __str__(self) -> str:
        return self.name


class LoginSession(Base):
    """One sign-in on one device. Logging out or deactivation ends it on the server."""

    __tablename__ = "login_sessions"
    __audit__ = False

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class ApiToken(Base):
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"
    __audit_exclude__ = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
