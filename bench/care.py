"""Daily-care figures on the S data set (bench.care_data): the round page and care-log write throughput.

For each database (a SQLite file, and PostgreSQL when BENCH_DATABASE_URL or
TEST_DATABASE_URL is set, as `make bench` does):

- the time to build the S data set (2,000 animals, 200,000 care logs, today's tasks);
- GET /round as a keeper of the facility, in-process with the test client: median and
  p95 over ROUND_REQUESTS requests, and the SQL statements of one request (target:
  p95 <= 50 ms);
- POST /api/v1/animals/<id>/care-logs from CLIENTS concurrent clients against the app
  served by gunicorn with 2 workers, against a bare Flask endpoint doing one INSERT and
  COMMIT on the same server setup and database (bench.bare_app): posts per second of
  each, and their ratio (target: >= 0.5). The two are measured alternately, ROUNDS times.
"""

import http.client
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app import create_app
from app.extensions import db
from bench.care_data import PASSWORD, TIMEZONE, make_dataset
from tests.conftest import make_config, reset_schema

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
ROUND_REQUESTS = 200
ROUND_BUDGET_S = 40  # a slow round page is timed fewer times (at least 5), so the bench still ends
CLIENTS = 20
POSTS_PER_CLIENT = 100
ROUNDS = 2  # bare, app, bare, app: the machine's noise shows as the spread
TASK_CARD = 'class="task-card'
_BOOKKEEPING = re.compile(r"^\s*(SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT)", re.IGNORECASE)


def _stats(timings: list[float]) -> dict:
    timings = sorted(timings)
    return {"median_ms": round(statistics.median(timings), 1), "p95_ms": round(timings[int(len(timings) * 0.95)], 1),
            "n": len(timings)}


class _Statements:
    """Counts the SQL statements the app's engine runs (BEGIN/COMMIT bookkeeping left out)."""

    def __init__(self, app):
        with app.app_context():
            self.engine = db.engine
        self.statements: list[str] = []

    def _record(self, _conn, _cursor, statement, *_args):
        if not _BOOKKEEPING.match(statement):
            self.statements.append(statement)

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._record)


# --- in-process: the round page ----------------------------------------------------------------

def _login(client, email: str) -> None:
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.status_code


def _page_figures(client, app, path: str) -> dict:
    """Median and p95 of GET path (at least 5 requests, up to ROUND_REQUESTS), its statements and size."""
    with _Statements(app) as counted:
        page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    timings = []
    deadline = time.perf_counter() + ROUND_BUDGET_S
    while len(timings) < ROUND_REQUESTS and (len(timings) < 5 or time.perf_counter() < deadline):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    html = page.get_data(as_text=True)
    return {**_stats(timings), "statements": len(counted.statements),
            "page": f"{len(html) / 1024:.0f} KiB, {html.count(TASK_CARD)} task cards"}


def _round_figures(app, info: dict) -> dict:
    """The round as a keeper uses it: the overview of enclosures, then the busiest enclosure's cards."""
    from app.animals.models import Animal
    from app.care.models import CareTask

    with app.app_context():
        # The enclosure whose residents have the most tasks: the longest page of cards.
        enclosure_id = db.session.execute(
            sa.select(Animal.enclosure_id).join(CareTask, CareTask.animal_id == Animal.id)
            .where(Animal.enclosure_id.is_not(None))
            .group_by(Animal.enclosure_id).order_by(sa.func.count().desc()).limit(1)
        ).scalar_one()
    client = app.test_client()
    _login(client, info["keeper_emails"][0])
    return {
        "GET /round, the overview (keeper, in-process; target p95 <= 50 ms)": _page_figures(client, app, "/round"),
        "GET /round/enclosures/<busiest> (its cards)": _page_figures(client, app,
                                                                     f"/round/enclosures/{enclosure_id}"),
    }


def _care_log_in_process(app, info: dict) -> dict:
    """One keeper posting care logs through the test client: the app's own cost, without a network."""
    client = app.test_client()
    token = client.post("/api/v1/auth/tokens", json={"email": info["keeper_emails"][0], "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json['token']}"}
    animal_ids = info["animals_by_keeper"][0]

    def post(n):
        body = {"kind": "feed", "eaten": "all", "client_id": str(uuid.uuid4()), "notes": f"bench {n}"}
        return client.post(f"/api/v1/animals/{animal_ids[n % len(animal_ids)]}/care-logs", json=body,
                           headers=headers)

    first = post(0)
    if first.status_code != 201:
        return {"POST care-logs (in-process)": f"answered {first.status_code}: {first.get_data(as_text=True)[:200]}"}
    with _Statements(app) as counted:
        post(1)
    timings = []
    for n in range(2, 202):
        started = time.perf_counter()
        response = post(n)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 201, response.status_code
    return {"POST care-logs (one client, in-process)": _stats(timings),
            "POST care-logs: SQL statements per request": len(counted.statements),
            "POST care-logs: statements": " | ".join(s.split()[0] + " " + _table_of(s) for s in counted.statements)}


def _table_of(statement: str) -> str:
    match = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", statement, re.IGNORECASE)
    return match.group(1) if match else ""


# --- over HTTP: gunicorn, 20 clients ---------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Server:
    """gunicorn -w 2 on a free port, ready once it answers HTTP at all; stopped on exit."""

    def __init__(self, target: str, env: dict, log_path: Path, ready_path: str):
        self.port = _free_port()
        self.log = log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own fixed command line
            [GUNICORN, "-w", "2", "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", target],
            cwd=ROOT, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {target} exited; see {log_path}: {log_path.read_text()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", ready_path)
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _request(conn, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    for attempt in range(2):  # gunicorn's sync workers close the connection after each response
        try:
            conn.request(method, path, body=data, headers=all_headers)
            response = conn.getresponse()
            return response.status, response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            conn.close()
            if attempt:
                raise
    raise AssertionError("unreachable")


def _hammer(port: int, make_request, clients: int = CLIENTS, posts: int = POSTS_PER_CLIENT) -> dict:
    """clients threads, each sending `posts` requests one after another; returns posts/s and latency."""
    barrier = threading.Barrier(clients + 1)
    timings: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def worker(index):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine, bad = [], []
        barrier.wait()
        for n in range(posts):
            method, path, body, headers, expected = make_request(index, n)
            started = time.perf_counter()
            status, payload = _request(conn, method, path, body, headers)
            mine.append((time.perf_counter() - started) * 1000)
            if status != expected:
                bad.append(f"{status} {payload[:120]!r}")
        conn.close()
        with lock:
            timings.extend(mine)
            failures.extend(bad)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    result = {"posts_per_s": round(clients * posts / elapsed, 1), **_stats(timings)}
    if failures:
        result["failures"] = f"{len(failures)}, e.g. {failures[0]}"
    return result


def _throughput(url: str, info: dict, tmp: Path, name: str) -> dict:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_bare")
        serial = "INTEGER PRIMARY KEY AUTOINCREMENT" if url.startswith("sqlite") else "BIGSERIAL PRIMARY KEY"
        conn.exec_driver_sql(f"CREATE TABLE bench_bare (id {serial}, client_id VARCHAR(64) NOT NULL UNIQUE, "
                             "notes TEXT NOT NULL DEFAULT '', at TIMESTAMP NOT NULL)")
    engine.dispose()
    app_env = {"APP_ENV": "development", "DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(48),
               "INSTANCE_DIR": str(tmp / "instance"), "SESSION_COOKIE_SECURE": "0", "UPLOAD_DIR": str(tmp / "up")}
    bare_env = {"BENCH_BARE_DATABASE_URL": url}
    figures: dict = {}
    with _Server("wsgi:app", app_env, tmp / f"gunicorn-app-{name}.log", "/healthz") as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        tokens = []
        for email in info["keeper_emails"][:CLIENTS]:
            status, payload = _request(conn, "POST", "/api/v1/auth/tokens", {"email": email, "password": PASSWORD})
            assert status == 201, (status, payload[:300])
            tokens.append({"Authorization": f"Bearer {json.loads(payload)['token']}"})
        animals = info["animals_by_keeper"]
        probe = _request(conn, "POST", f"/api/v1/animals/{animals[0][0]}/care-logs",
                         {"kind": "feed", "eaten": "all", "client_id": str(uuid.uuid4()), "notes": "probe"},
                         tokens[0])
        conn.close()
        if probe[0] != 201:
            return {"care-log POST": f"answered {probe[0]}: {probe[1][:200]!r} (endpoint not ready?)"}

        def care_log(index, n):
            ids = animals[index]
            body = {"kind": "feed", "eaten": "all", "client_id": str(uuid.uuid4()),
                    "notes": f"Ate well, client {index} post {n}"}
            return "POST", f"/api/v1/animals/{ids[(n * 7 + index) % len(ids)]}/care-logs", body, tokens[index], 201

        _hammer(server.port, care_log, posts=5)  # warm-up: connections, token last_used_at, caches
        app_runs = []
        with _Server("bench.bare_app:app", bare_env, tmp / f"gunicorn-bare-{name}.log", "/") as bare:

            def bare_post(index, n):
                body = {"client_id": str(uuid.uuid4()), "notes": f"Ate well, client {index} post {n}"}
                return "POST", "/bare", body, {}, 201

            _hammer(bare.port, bare_post, posts=5)
            bare_runs = []
            for _ in range(ROUNDS):
                bare_runs.append(_hammer(bare.port, bare_post))
                app_runs.append(_hammer(server.port, care_log))
    best_app = max(run["posts_per_s"] for run in app_runs)
    best_bare = max(run["posts_per_s"] for run in bare_runs)
    for n, (app_run, bare_run) in enumerate(zip(app_runs, bare_runs, strict=True), 1):
        figures[f"run {n}: bare INSERT+COMMIT"] = bare_run
        figures[f"run {n}: POST care-logs"] = app_run
    figures[f"care-log POST throughput, {CLIENTS} clients, gunicorn -w 2 (best run)"] = f"{best_app} posts/s"
    figures["bare INSERT+COMMIT throughput, same setup (best run)"] = f"{best_bare} posts/s"
    figures["ratio app / bare (target >= 0.5)"] = round(best_app / best_bare, 3)
    return figures


# --- per database ------------------------------------------------------------------------------------------

def _bench(name: str, url: str, tmp: Path) -> dict:
    figures: dict = {}
    app = create_app(make_config(url, UPLOAD_DIR=str(tmp / "uploads")))
    reset_schema(app)
    with app.app_context():
        started = time.perf_counter()
        info = make_dataset("S")
        figures["build the S data set"] = f"{time.perf_counter() - started:.1f} s"
        figures["data set"] = info["counts"]
        figures["local time of the run"] = info["now"].astimezone(ZoneInfo(TIMEZONE)).strftime("%H:%M")
        # Client k signs in as keeper k and logs care for animals of keeper k's facility.
        by_facility: dict[int, list[int]] = {}
        for animal_id, facility_id in db.session.execute(
                sa.text("SELECT id, facility_id FROM animals ORDER BY id")).all():
            by_facility.setdefault(facility_id, []).append(animal_id)
        facilities = info["facility_ids"]
        info["animals_by_keeper"] = [by_facility[facilities[k % len(facilities)]]
                                     for k in range(len(info["keeper_emails"]))]
    figures.update(_round_figures(app, info))
    figures.update(_care_log_in_process(app, info))
    with app.app_context():
        db.engine.dispose()  # the servers are the only users of the database from here on
    figures.update(_throughput(url, info, tmp, name))
    return figures


def run() -> dict:
    figures: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-care-") as folder:
        tmp = Path(folder)
        for name, url in (("SQLite", f"sqlite:///{tmp}/care.sqlite3"),
                          ("PostgreSQL", os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL"))):
            if not url:
                figures[name] = "skipped (set BENCH_DATABASE_URL, or run `make bench` which starts one)"
                continue
            for key, value in _bench(name, url, tmp).items():
                figures[f"{name}: {key}"] = value
    return figures

