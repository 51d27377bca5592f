"""The schema is made by migrations only; this fails when models and migrations disagree."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.common.db import UTCDateTime, utcnow
from app.extensions import db as _db


def test_models_and_migrations_agree(db):
    connection = db.session.connection()
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    differences = compare_metadata(context, _db.metadata)
    assert differences == [], f"run `flask --app wsgi db migrate`: {differences}"


def test_utc_columns_come_back_timezone_aware(db):
    value = utcnow()
    column = UTCDateTime()
    dialect = db.session.connection().dialect
    stored = column.process_bind_param(value, dialect)
    assert column.process_result_value(stored, dialect) == value


def test_naive_datetimes_are_refused(db):
    import datetime as dt

    import pytest

    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(dt.datetime(2026, 1, 1), db.session.connection().dialect)


def test_connection_settings_of_each_database(db):
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
    else:
        assert connection.exec_driver_sql("SHOW server_encoding").scalar() == "UTF8"
