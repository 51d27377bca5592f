"""Test harness: the app on a migrated throwaway database, each test rolled back.

The database is SQLite (a temporary file) unless TEST_DATABASE_URL names another,
which is how `make test` runs the same suite on PostgreSQL. Every test runs inside
one outer transaction on one connection; commits made by the code under test only
release savepoints, and the outer transaction is rolled back at the end.
"""

import contextvars
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade

from app import create_app
from app.extensions import db as _db
from app.extensions import limiter
from config import TestConfig
from tests import factories

PASSWORD = factories.DEFAULT_PASSWORD


def pytest_sessionstart(session):
    """Compile the translation catalogues when stale, so the suite works without `make`."""
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in Path(__file__).resolve().parent.parent.glob("app/translations/*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source, mo.open("wb") as target:
                write_mo(target, read_po(source))


def _test_database_url(tmp_dir: str) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{os.path.join(tmp_dir, 'rescue-ledger-test.sqlite3')}"


def fresh_database_url(tmp_dir: str, suffix: str) -> str:
    """A new empty database beside the suite's: a SQLite file, or a PostgreSQL database made now.

    For tests whose writes must really commit (a server thread, concurrent writers).
    """
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{os.path.join(tmp_dir, f'rescue-ledger-{suffix}.sqlite3')}"
    parts = sa.engine.make_url(url)
    name = f"{parts.database}_{suffix}"
    admin = sa.create_engine(parts.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return parts.set(database=name).render_as_string(hide_password=False)


def make_config(database_url: str, **overrides) -> type[TestConfig]:
    return type("SuiteConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_url, **overrides})


def reset_schema(app) -> None:
    """Build the schema the way production does: by running the migrations.

    SQLite databases are new files in a new temporary folder; a PostgreSQL test
    database may be reused, so its schema is dropped first.
    """
    with app.app_context():
        engine = _db.engine
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
        upgrade()
        engine.dispose()


@pytest.fixture(scope="session")
def _tmp_dir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="rescue-ledger-tests-") as path:
        yield path


@pytest.fixture(scope="session")
def app(_tmp_dir):
    """The app under test, its schema made by running every migration."""
    application = create_app(make_config(_test_database_url(_tmp_dir), UPLOAD_DIR=os.path.join(_tmp_dir, "uploads")))
    reset_schema(application)
    return application


class IsolatedClient(FlaskClient):
    """A test client whose every request gets its own app context, as in production.

    Flask reuses an app context that is already pushed; the tests keep one pushed
    for factories, so without this `g` (and the signed-in user cached in it) and
    the database session would leak from one request into the next.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)

    def csrf_token(self, path: str = "/login") -> str:
        """The CSRF token of this client's session, read from a page's meta tag."""
        html = self.get(path, follow_redirects=True).get_data(as_text=True)
        match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post_form(self, path: str, data: dict | None = None, **kwargs):
        """POST a form with a valid CSRF token, as the browser would."""
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(path, data=data, **kwargs)


@pytest.fixture
def db(app) -> Iterator:
    """The database, inside a transaction that is rolled back after the test."""
    with app.app_context():
        engines = _db.engines
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        # Flask-SQLAlchemy 3 ignores a bind given to the session, so the engine
        # itself is swapped for this connection while the test runs.
        engines[None] = connection
        try:
            yield _db
        finally:
            _db.session.remove()
            engines[None] = engine
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app, db) -> IsolatedClient:
    app.test_client_class = IsolatedClient
    limiter.reset()
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def facility(db):
    return factories.FacilityFactory(code="PTK", name="Phnom Tamao")


@pytest.fixture
def other_facility(db):
    return factories.FacilityFactory(code="KOH", name="Koh Kong Release Station", kind="release_station")


@pytest.fixture
def make_user(db, facility):
    """make_user(role, facilities=None): a user; keepers, vets and viewers default to `facility`."""

    def _make(role: str, facilities=None, **kwargs):
        if facilities is None:
            facilities = [] if role in ("admin", "coordinator") else [facility]
        return factories.UserFactory(role=role, facilities=facilities, **kwargs)

    return _make


@pytest.fixture
def login(client, make_user, db):
    """login(role_or_user): sign the test client in through the real sign-in form."""

    def _login(who, **kwargs):
        user = make_user(who, **kwargs) if isinstance(who, str) else who
        response = client.post_form("/login", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        db.session.expire_all()  # the sign-in request updated the user (last_login_at, version)
        return user

    return _login


@pytest.fixture
def bearer(client, make_user):
    """bearer(role, **user_kwargs) -> Authorization headers of a new user with that role."""

    def _bearer(role: str, **kwargs):
        user = make_user(role, **kwargs)
        response = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD})
        return {"Authorization": f"Bearer {response.json['token']}"}

    return _bearer


class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def __repr__(self) -> str:
        return f"<{self.count} queries>\n" + "\n".join(self.statements)


_BOOKKEEPING = re.compile(r"^\s*(SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT)", re.IGNORECASE)


@pytest.fixture
def count_queries(db):
    """with count_queries() as counter: ... ; counter.count is the number of SQL statements."""
    engine = db.engine if not isinstance(db.engines[None], sa.engine.Connection) else db.engines[None].engine

    @contextmanager
    def _count():
        counter = QueryCounter()

        def _record(_conn, _cursor, statement, _params, _context, _many):
            if not _BOOKKEEPING.match(statement):
                counter.statements.append(statement)

        sa.event.listen(engine, "before_cursor_execute", _record)
        try:
            yield counter
        finally:
            sa.event.remove(engine, "before_cursor_execute", _record)

    return _count


@pytest.fixture
def signed_in(app, make_user):
    """A request context with a signed-in user of `facility` (role admin unless given), for calling queries."""
    from flask_login import login_user

    contexts = []

    def _sign_in(role="admin", **kwargs):
        context = app.test_request_context("/")
        context.push()
        contexts.append(context)
        user = make_user(role, **kwargs)
        login_user(user)
        return user

    yield _sign_in
    for context in reversed(contexts):
        context.pop()
