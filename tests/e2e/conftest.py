"""Browser fixtures: the app on its own committed database, served in a thread, and Chromium.

The rolled-back `db` fixture cannot be shared with a server thread, so browser
tests use a database of their own with real commits, emptied after each test.
"""

import os
import shutil
import threading
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db as _db
from app.extensions import limiter
from tests.conftest import fresh_database_url, make_config, reset_schema

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def _require_chromium():
    if shutil.which(CHROMIUM) or os.path.exists(CHROMIUM):
        return
    message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1: {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def live_app(_tmp_dir):
    _require_chromium()
    application = create_app(
        make_config(fresh_database_url(_tmp_dir, "e2e"), UPLOAD_DIR=os.path.join(_tmp_dir, "e2e-uploads"))
    )
    reset_schema(application)
    return application


@pytest.fixture(scope="session")
def live_server(live_app):
    """The app under a real threaded WSGI server on a free local port."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def live_db(live_app, live_server):
    """The browser tests' database, emptied after the test.

    The audit log refuses DELETE, so PostgreSQL empties it with TRUNCATE and a
    SQLite database is made anew from the migrations.
    """
    with live_app.app_context():
        # Reading an attribute after commit must not open a transaction: on SQLite
        # that would hold the write lock while the server thread tries to write.
        _db.session().expire_on_commit = False
        yield _db
        _db.session.remove()
        engine = _db.engine
        if engine.dialect.name == "postgresql":
            tables = ", ".join(f'"{t.name}"' for t in _db.metadata.sorted_tables)
            with engine.begin() as conn:
                conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        else:
            engine.dispose()
            os.remove(engine.url.database)
            reset_schema(live_app)
    limiter.reset()


@pytest.fixture(scope="session")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield chromium
        chromium.close()


class PageWatch:
    """What a page did that it should not: console errors and requests off this machine."""

    def __init__(self):
        self.console_errors: list[str] = []
        self.external_requests: list[str] = []


@pytest.fixture
def page(browser, live_server, live_db):
    """A tablet-sized page (1024×768); fails the test on a console error or an external request."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, base_url=live_server)
    watch = PageWatch()

    def _guard(route):
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            watch.external_requests.append(route.request.url)
            route.abort()

    context.route("**/*", _guard)
    tab = context.new_page()
    tab.on("console", lambda msg: msg.type == "error" and watch.console_errors.append(msg.text))
    tab.on("pageerror", lambda error: watch.console_errors.append(str(error)))
    tab.watch = watch
    yield tab
    context.close()
    assert not watch.external_requests, f"requests left 127.0.0.1: {watch.external_requests}"
    assert not watch.console_errors, f"console errors: {watch.console_errors}"
