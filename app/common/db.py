"""Declarative base, column types and mixins that every domain model builds on."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, registry
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic can alter and drop them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC (the callable default of *_at columns)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """An instant stored in UTC and always read back timezone-aware.

    PostgreSQL keeps it as timestamptz; SQLite has no time zones, so the value is
    stored as naive UTC and the zone is put back on read. Naive input is refused:
    a time without a zone is a bug waiting to happen in a multi-timezone network.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """The declarative base of every model."""

    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime},
    )


class TimestampMixin:
    """created_at / updated_at in UTC, filled by callable defaults."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class VersionedMixin:
    """Optimistic locking: SQLAlchemy bumps `version` on every UPDATE and refuses a stale one.

    A stale write raises StaleDataError; callers compare the version the user read
    with the current one first, so the user sees a clear conflict instead.
    """

    version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls):  # noqa: N805 - SQLAlchemy passes the class
        return {"version_id_col": cls.__table__.c.version}


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, _record):
    """WAL, foreign keys and a busy timeout on every SQLite connection.

    The driver is put in autocommit mode so that SQLAlchemy emits BEGIN itself
    (see _begin_immediate); that is also what makes SAVEPOINTs work on SQLite.
    """
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_immediate(conn):
    """Start SQLite transactions with BEGIN IMMEDIATE.

    A deferred transaction that reads first and writes later cannot wait for the
    lock: SQLite answers "database is locked" at once, whatever the busy timeout.
    Taking the write lock at BEGIN makes a second process wait its turn instead.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
