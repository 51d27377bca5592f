"""Alert-job figures: flag_overdue_care on the M data set (bench.care_data) against one hand-written query.

For each database (a SQLite file, and PostgreSQL when BENCH_DATABASE_URL or
TEST_DATABASE_URL is set, as `make bench` does), at NOW_LOCAL (late afternoon) of the
data set's day, when 10% of the day's tasks already due are still open and overdue (care_data
leaves every tenth open: the 08:00 feeds, critical by then, and the 09:00 cleans, warnings):

- the time to build the data set (M: 50,000 animals, 5,000,000 care logs, ~1,000,000 tasks);
- app.scheduler.run_job("flag_overdue_care", now): its first run (raising every alert; the
  alerts are deleted before each repetition), a second run with the same now (steady state:
  nothing changes), a run as of now after one as of ESCALATE_FROM (the morning feeds'
  alerts turn from warning to critical: the severity update has thousands of rows),
  and a run 5 minutes later after one overdue task in COMPLETE_EVERY was completed
  (resolving); medians, with the SQL statements of one run and the time of each;
- ONE hand-written text() query selecting the same rows (open tasks past overdue_at with
  id, kind, facility_id, animal_id, due_at and the severity CASE): its median time;
- the ratio job / query for the first and the steady-state run (target: job <= 1 s and
  <= 2x the query).

Environment: BENCH_ALERTS_SIZE=S|M (default M; S builds in seconds), BENCH_ALERTS_DATABASES
(default "sqlite,postgresql"), BENCH_ALERTS_SQLITE (a SQLite file to use, and keep, instead of a
temporary one), BENCH_ALERTS_ROUNDS (measure the same data set N times,
default 1: a second round shows the machine's noise), BENCH_ALERTS_EXPLAIN=1 (print the
plan of each statement the job issued: EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL).
Timings on a shared machine are noisy: the load average before and after is printed.
"""

import os
import re
import statistics
import tempfile
import time
from contextlib import nullcontext
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from app import create_app
from app.alerts.models import AlertStatus, JobRunStatus
from app.care.models import TaskStatus
from app.common.db import UTCDateTime, utcnow
from app.extensions import db
from app.scheduler import run_job
from bench.care_data import TIMEZONE, make_dataset
from tests.conftest import make_config, reset_schema

JOB = "flag_overdue_care"
SIZE = os.environ.get("BENCH_ALERTS_SIZE", "M")
DATABASES = [name.strip().lower() for name in os.environ.get("BENCH_ALERTS_DATABASES", "sqlite,postgresql").split(",")]
MEASURE_ROUNDS = int(os.environ.get("BENCH_ALERTS_ROUNDS", "1"))
EXPLAIN = os.environ.get("BENCH_ALERTS_EXPLAIN") == "1"
NOW_LOCAL = "16:45"  # the open 08:00 feeds critical (since 10:00), the open 09:00 cleans warnings (until 17:00)
ESCALATE_FROM = "09:45"  # the 08:00 feeds are overdue (09:00) but not yet critical (10:00)
ESCALATE_CAP_S = 300  # the escalating run is stopped past this (its per-row subqueries can take very long)
RESOLVE_AFTER = timedelta(minutes=5)  # the next trigger of the 5-minute job
COMPLETE_EVERY = 3  # one overdue task in three is completed before the resolving run
REPEATS = {"first": 3, "steady": 5, "escalate": 3, "resolve": 3, "query": 7}
BUDGET_S = 90  # a slow measurement is repeated fewer times (at least once), so the bench still ends
TARGET_S, TARGET_RATIO = 1.0, 2.0
_BOOKKEEPING = re.compile(r"^\s*(SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|SET LOCAL)", re.IGNORECASE)


class _Statements:
    """Every statement the app's engine runs while active, with its parameters and duration."""

    def __init__(self):
        self.engine = db.engine
        self.statements: list[tuple[str, object, float]] = []
        self.failed: set[int] = set()  # indexes of statements that raised (interrupted)

    def _before(self, conn, _cursor, _statement, _parameters, _context, _executemany):
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn, _cursor, statement, parameters, _context, _executemany):
        started = conn.info["bench_started"].pop()
        self.statements.append((statement, parameters, time.perf_counter() - started))

    def _error(self, context):
        if context.connection is not None and context.connection.info.get("bench_started"):
            self._after(context.connection, None, context.statement, context.parameters, None, False)
            self.failed.add(len(self.statements) - 1)

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._before)
        sa.event.listen(self.engine, "after_cursor_execute", self._after)
        sa.event.listen(self.engine, "handle_error", self._error)
        return self

    def __exit__(self, *_exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._before)
        sa.event.remove(self.engine, "after_cursor_execute", self._after)
        sa.event.remove(self.engine, "handle_error", self._error)

    def work(self) -> list[tuple[str, object, float]]:
        """The statements without SAVEPOINT/RELEASE bookkeeping."""
        return [s for s in self.statements if not _BOOKKEEPING.match(s[0])]

    def timings(self) -> str:
        return " | ".join(f"{_label(s)} {_ms(seconds)} ms{' (interrupted)' if n in self.failed else ''}"
                          for n, (s, _p, seconds) in enumerate(self.statements) if not _BOOKKEEPING.match(s))


def _label(statement: str) -> str:
    words = statement.split()
    if words[0].upper() == "WITH":  # a SELECT over a CTE: name the tables it reads
        tables = dict.fromkeys(re.findall(r"\b(?:FROM|JOIN)\s+(\w+)", statement, re.IGNORECASE))
        return f"WITH…SELECT {'/'.join(t for t in tables if t != 'findings')}"
    match = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", statement, re.IGNORECASE)
    return f"{words[0]} {match.group(1) if match else ''}".strip()


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _median_ms(timings: list[float]) -> dict:
    return {"median_ms": _ms(statistics.median(timings)), "min_ms": _ms(min(timings)),
            "max_ms": _ms(max(timings)), "n": len(timings)}


class _Capped:
    """Interrupts the app's statements running past `seconds` while active.

    PostgreSQL: SET LOCAL statement_timeout at each BEGIN; SQLite: a progress handler
    (left on the connection, but answering "go on" once the block is left).
    """

    def __init__(self, seconds: float):
        self.seconds, self.engine, self.active = seconds, db.engine, False

    def _begin(self, conn):
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(self.seconds * 1000)}")
        else:
            deadline = time.perf_counter() + self.seconds
            conn.connection.dbapi_connection.set_progress_handler(
                lambda: int(self.active and time.perf_counter() > deadline), 100_000)

    def __enter__(self):
        self.active = True
        sa.event.listen(self.engine, "begin", self._begin)
        return self

    def __exit__(self, *_exc):
        self.active = False
        sa.event.remove(self.engine, "begin", self._begin)


def _job(now: datetime, cap_s: float | None = None) -> tuple[float, int | None, _Statements]:
    """One run_job of the job as of now: seconds, alerts raised (None: interrupted past cap_s), statements."""
    db.session.remove()
    with _Statements() as counted, (_Capped(cap_s) if cap_s else nullcontext()):
        started = time.perf_counter()
        run = run_job(JOB, now)
        elapsed = time.perf_counter() - started
    status, items, error = run.status, run.items, run.error
    db.session.remove()
    # (The error recorded is cut to its end: SQLite's "interrupted" may not show in it.)
    if cap_s and status == JobRunStatus.FAILED and elapsed >= cap_s:
        return elapsed, None, counted
    assert status == JobRunStatus.SUCCEEDED, error
    return elapsed, items, counted


def _repeat(kind: str, prepare, now: datetime, restore=None, cap_s=None) -> tuple[list[float], list]:
    """REPEATS[kind] timed runs of the job (fewer past BUDGET_S), each after prepare(); their figures."""
    timings, runs = [], []
    deadline = time.perf_counter() + BUDGET_S
    for _ in range(REPEATS[kind]):
        if prepare:
            prepare()
        elapsed, items, counted = _job(now, cap_s)
        timings.append(elapsed)
        runs.append((elapsed, items, counted))
        if restore:
            restore()
        if time.perf_counter() > deadline:
            break
    return timings, runs


def _breakdown(runs: list) -> str:
    """The statements of the median run, each with its time."""
    _elapsed, _items, counted = sorted(runs, key=lambda run: run[0])[len(runs) // 2]
    return counted.timings()


def _execute(sql: str, **params) -> None:
    db.session.execute(sa.text(sql), params)
    db.session.commit()


def _delete_alerts() -> None:
    _execute("DELETE FROM alerts")
    if db.engine.dialect.name == "postgresql":  # a first run finds the table as new, without dead rows
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM alerts")


def _set_status(task_ids: list[int], status: str, done_at: datetime | None) -> None:
    table = sa.table("care_tasks", sa.column("id"), sa.column("status"), sa.column("done_at", UTCDateTime()))
    for start in range(0, len(task_ids), 5000):
        db.session.execute(table.update().where(table.c.id.in_(task_ids[start:start + 5000]))
                           .values(status=status, done_at=done_at))
    db.session.commit()


def _query(now: datetime) -> sa.TextClause:
    """The hand-written SELECT of the rows the job's findings read, severity included."""
    graces = current_app.config["CARE_GRACE_MINUTES"]
    critical = " OR ".join(f"(kind = :kind_{kind} AND overdue_at < :critical_{kind})" for kind in graces)
    sql = ("SELECT id, kind, facility_id, animal_id, due_at, "  # noqa: S608 - kinds from the config, values bound
           f"CASE WHEN {critical} THEN 'critical' ELSE 'warning' END AS severity "
           "FROM care_tasks WHERE status = :open AND overdue_at < :now")
    params = {"open": TaskStatus.OPEN.value, "now": now}
    binds = [sa.bindparam("now", type_=UTCDateTime())]
    for kind, minutes in graces.items():
        params[f"kind_{kind}"] = kind
        params[f"critical_{kind}"] = now - timedelta(minutes=minutes)
        binds.append(sa.bindparam(f"critical_{kind}", type_=UTCDateTime()))
    return sa.text(sql).bindparams(*binds, **params)


def _explain(counted: _Statements) -> dict:
    """The plan of each statement the job issued, run with its own parameters (nothing is executed)."""
    prefix = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
    plans = {}
    seen = set()
    with db.engine.connect() as conn:
        for n, (statement, parameters, _seconds) in enumerate(counted.work(), 1):
            if "job_runs" in _label(statement) or statement in seen:
                continue
            seen.add(statement)
            if isinstance(parameters, list):  # an executemany: the plan of its first row
                parameters = parameters[0]
            rows = conn.exec_driver_sql(prefix + statement, parameters).all()
            lines = [" ".join(str(v) for v in row[1:]) if len(row) > 1 else str(row[0]) for row in rows]
            plans[f"plan of statement {n} ({_label(statement)})"] = "\n      " + "\n      ".join(lines)
        conn.rollback()
    return plans


def _measure(now: datetime) -> dict:
    figures: dict = {"load average before (1, 5 min)": "{:.2f}, {:.2f}".format(*os.getloadavg()[:2])}
    problems: list[str] = []
    unresolved = sa.text("SELECT count(*) FROM alerts WHERE status <> :resolved").bindparams(
        resolved=AlertStatus.RESOLVED.value)

    # The hand-written query: the same rows, fetched.
    query = _query(now)
    overdue = db.session.execute(query).all()
    query_timings = []
    for _ in range(REPEATS["query"]):
        started = time.perf_counter()
        rows = db.session.execute(query).all()
        query_timings.append(time.perf_counter() - started)
    assert len(rows) == len(overdue)
    db.session.commit()
    severities = {}
    for row in overdue:
        severities[row.severity] = severities.get(row.severity, 0) + 1
    figures["overdue tasks found (hand-written query)"] = f"{len(overdue)} ({severities})"

    # 1. The first run: every alert raised.
    first, first_runs = _repeat("first", _delete_alerts, now)
    raised = first_runs[-1][1]
    open_alerts = db.session.execute(unresolved).scalar_one()
    db.session.commit()
    figures["alerts raised by the first run (the job's count / unresolved alerts)"] = f"{raised} / {open_alerts}"
    if raised != len(overdue) or open_alerts != len(overdue):
        problems.append(f"the first run raised {raised} (counted {open_alerts} unresolved) for {len(overdue)} "
                        "overdue tasks")
    counted = first_runs[-1][2]
    figures["SQL statements of one run (all / without SAVEPOINT and RELEASE)"] = (
        f"{len(counted.statements)} / {len(counted.work())}")
    figures["first run (alerts deleted before each)"] = _median_ms(first)
    figures["first run: its statements (median run)"] = _breakdown(first_runs)

    # 2. The steady state: the same now again, nothing changes.
    steady, steady_runs = _repeat("steady", None, now)
    if any(items != 0 for _e, items, _c in steady_runs):
        problems.append(f"the steady-state runs raised {[items for _e, items, _c in steady_runs]}")
    figures["second run, same now (steady state)"] = _median_ms(steady)
    figures["steady state: its statements (median run)"] = _breakdown(steady_runs)
    if EXPLAIN:
        figures.update(_explain(steady_runs[-1][2]))

    # 3. The 08:00 feeds turning critical: from the state of a first run as of ESCALATE_FROM (those
    # alerts are warnings, the cleans not yet overdue) to now. A run past ESCALATE_CAP_S is stopped.
    escalate_from = datetime.combine(now.date(), clock.fromisoformat(ESCALATE_FROM), tzinfo=now.tzinfo)

    def warnings_only():
        _delete_alerts()
        _job(escalate_from)

    escalate, escalate_runs = _repeat("escalate", warnings_only, now, cap_s=ESCALATE_CAP_S)
    label = f"run after a first one as of {ESCALATE_FROM} (severities escalate, cleans raised)"
    if any(items is None for _e, items, _c in escalate_runs):
        figures[label] = f"stopped after {ESCALATE_CAP_S} s (statement interrupted): > {ESCALATE_CAP_S * 1000} ms"
        _delete_alerts()  # back to every alert raised as of now
        _job(now)
    else:
        figures[label] = _median_ms(escalate)
    figures["escalation: its statements (median run)"] = _breakdown(escalate_runs)

    # 4. Some tasks completed: their alerts resolve at the next run.
    completed = sorted(row.id for row in overdue)[::COMPLETE_EVERY]

    def complete():
        _set_status(completed, TaskStatus.DONE.value, now)

    def reopen():  # back to the state of the first run: tasks open, every alert raised and open
        _set_status(completed, TaskStatus.OPEN.value, None)
        _delete_alerts()
        _job(now)

    def check_resolved():
        left = db.session.execute(unresolved).scalar_one()
        db.session.commit()
        if left != len(overdue) - len(completed):
            problems.append(f"after the resolving run {left} alerts unresolved, not {len(overdue) - len(completed)}")
        reopen()

    resolve, resolve_runs = _repeat("resolve", complete, now + RESOLVE_AFTER, restore=check_resolved)
    figures[f"run {RESOLVE_AFTER.seconds // 60} min later, {len(completed)} tasks completed (resolving)"] = (
        _median_ms(resolve))
    figures["resolving: its statements (median run)"] = _breakdown(resolve_runs)

    query_s, first_s, steady_s = (statistics.median(t) for t in (query_timings, first, steady))
    figures["hand-written query (text(), all rows fetched)"] = _median_ms(query_timings)
    figures["ratio job / query, steady state"] = round(steady_s / query_s, 2)
    figures["ratio job / query, first run"] = round(first_s / query_s, 2)
    worst = max(first_s, steady_s)
    figures[f"target (job <= {TARGET_S:g} s and <= {TARGET_RATIO:g}x the query)"] = (
        "met" if worst <= TARGET_S and worst / query_s <= TARGET_RATIO else "MISSED")
    figures["problems seen"] = "; ".join(dict.fromkeys(problems)) or "none"
    figures["load average after (1, 5 min)"] = "{:.2f}, {:.2f}".format(*os.getloadavg()[:2])
    return figures


def _bench(url: str, tmp: Path) -> dict:
    figures: dict = {}
    app = create_app(make_config(url, UPLOAD_DIR=str(tmp / "uploads")))
    reset_schema(app)
    tz = ZoneInfo(TIMEZONE)
    now = datetime.combine(utcnow().astimezone(tz).date(), clock.fromisoformat(NOW_LOCAL), tzinfo=tz)
    with app.app_context():
        started = time.perf_counter()
        info = make_dataset(SIZE, now=now)
        figures[f"build the {SIZE} data set"] = f"{time.perf_counter() - started:.1f} s"
        figures["data set"] = info["counts"]
        figures["now (local)"] = now.strftime("%Y-%m-%d %H:%M %Z")
        for round_ in range(1, MEASURE_ROUNDS + 1):
            suffix = f" (round {round_})" if MEASURE_ROUNDS > 1 else ""
            for key, value in _measure(now).items():
                figures[key + suffix] = value
        db.session.remove()
        db.engine.dispose()
    return figures


def run() -> dict:
    figures: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-alerts-") as folder:
        tmp = Path(folder)
        sqlite_path = os.environ.get("BENCH_ALERTS_SQLITE") or f"{tmp}/alerts.sqlite3"
        for name, url in (("SQLite", f"sqlite:///{sqlite_path}"),
                          ("PostgreSQL", os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL"))):
            if name.lower() not in DATABASES:
                continue
            if not url:
                figures[name] = "skipped (set BENCH_DATABASE_URL, or run `make bench` which starts one)"
                continue
            for key, value in _bench(url, tmp).items():
                figures[f"{name}: {key}"] = value
    return figures
