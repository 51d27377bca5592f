"""Real `flask scheduler` processes against one database: one acts, the other waits and takes over.

These tests start subprocesses, so their database is a fresh one whose writes really
commit (a SQLite file, or a PostgreSQL database made for the test).
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import create_app
from app.alerts.models import JobRun, JobRunStatus, SchedulerLease
from app.care.models import CareTask
from app.care.services import create_schedule
from app.common.db import utcnow
from app.extensions import db
from app.scheduler import JOBS
from tests import factories
from tests.conftest import fresh_database_url, make_config, reset_schema

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 3
# Every other job on a day's grid, so only the one-second trigger is exercised.
INTERVALS = "flag_overdue_care=1," + ",".join(
    f"{name}=86400" for name in ("make_care_tasks", "flag_weights", "flag_quarantine", "flag_release_readiness",
                                 "flag_evidence_holds", "send_alert_digest"))


def _env(database_url: str, instance: Path) -> dict:
    return {**os.environ, "APP_ENV": "development", "DATABASE_URL": database_url, "INSTANCE_DIR": str(instance),
            "SECRET_KEY": "scheduler-test-key-" + "x" * 32, "SCHEDULER_INTERVALS": INTERVALS,
            "SCHEDULER_LEASE_SECONDS": str(LEASE_SECONDS), "PYTHONUNBUFFERED": "1"}


def _start(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run"], cwd=ROOT, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def scheduler_db(_tmp_dir, tmp_path):
    url = fresh_database_url(_tmp_dir, f"scheduler_{uuid.uuid4().hex[:8]}")  # one per test
    app = create_app(make_config(url))
    reset_schema(app)
    yield app, url
    with app.app_context():
        db.engine.dispose()


def _runs(app) -> list[JobRun]:
    with app.app_context():
        runs = db.session.execute(select(JobRun).where(JobRun.job == "flag_overdue_care")
                                  .order_by(JobRun.scheduled_for)).scalars().all()
        db.session.expunge_all()
        db.session.remove()
        return runs


def _holder(app) -> str | None:
    with app.app_context():
        lease = db.session.get(SchedulerLease, "scheduler")
        holder = lease.holder if lease else None
        db.session.remove()
        return holder


def test_two_schedulers_run_each_trigger_once_and_the_second_takes_over(scheduler_db, tmp_path):
    app, url = scheduler_db
    env = _env(url, tmp_path)
    first = _start(env, tmp_path / "first.log")
    _wait_for(lambda: _holder(app), 30, "the first scheduler to take the lease")
    second = _start(env, tmp_path / "second.log")
    processes = {first.pid: first, second.pid: second}
    try:
        _wait_for(lambda: "waits" in (tmp_path / "second.log").read_text(), 30, "the second scheduler to wait")
        _wait_for(lambda: len(_runs(app)) >= 5, 30, "five one-second triggers")
        holder = _holder(app)
        leader = processes[int(holder.rsplit(":", 1)[1])]
        follower = second if leader is first else first

        # Both processes fire every trigger; only the lease holder runs it, once.
        runs = _runs(app)
        assert {run.runner for run in runs} == {holder}
        # At start every job ran once for its current slot (a restart catches up on a missed daily job).
        with app.app_context():
            started = db.session.execute(select(JobRun.job, func.count()).group_by(JobRun.job)).all()
            db.session.remove()
        assert {job for job, _count in started} == set(JOBS)
        assert all(count == 1 for job, count in started if job != "flag_overdue_care")
        slots = [run.scheduled_for for run in runs]
        assert len(slots) == len(set(slots))
        # The newest run may still be going when read; none may have failed.
        assert [run.error for run in runs if run.status == JobRunStatus.FAILED] == []
        assert all(run.status == JobRunStatus.SUCCEEDED for run in runs[:-1])

        # The leader dies without a word: its lease runs out and the other one carries on.
        leader.kill()
        leader.wait()
        died_at = runs[-1].scheduled_for
        _wait_for(lambda: _holder(app) == holder.rsplit(":", 1)[0] + f":{follower.pid}",
                  LEASE_SECONDS + 20, "the second scheduler to take over")
        _wait_for(lambda: any(run.runner.endswith(f":{follower.pid}") for run in _runs(app)), 20,
                  "a run by the second scheduler")
        runs = _runs(app)
        later = [run for run in runs if run.scheduled_for > died_at]
        assert later and all(run.runner.endswith(f":{follower.pid}") for run in later)
        slots = [run.scheduled_for for run in runs]
        assert len(slots) == len(set(slots))
        assert "holds the lease" in (tmp_path / f"{'second' if follower is second else 'first'}.log").read_text()
    finally:
        for process in (first, second):
            _stop(process)
    stopped_at = utcnow()

    # A clean stop gives the lease back at once, instead of leaving it to run out.
    with app.app_context():
        assert db.session.get(SchedulerLease, "scheduler").expires_at <= stopped_at
        db.session.remove()


def test_run_once_from_the_command_line_raises_one_overdue_alert_seen_through_the_api(scheduler_db, tmp_path):
    """A feed left undone; `scheduler run-once flag_overdue_care --now` after its grace, twice: one alert."""
    app, url = scheduler_db
    due = datetime(2026, 6, 10, 1, 0, tzinfo=UTC)  # 08:00 in Phnom Penh
    with app.app_context():
        facility = factories.FacilityFactory(code="PTK")
        keeper = factories.UserFactory(role="keeper", email="keeper@example.org", facilities=[facility])
        case = factories.CaseFactory(facility=facility)
        animal = factories.AnimalFactory(case=case, name="Srey")
        create_schedule(animal=animal, user=None, now=due - timedelta(hours=2), kind="feed", times=["08:00"],
                        starts_on=date(2026, 6, 10), instructions="Fruit")
        db.session.commit()
        task_id = db.session.execute(select(CareTask.id).where(CareTask.due_at == due)).scalar_one()
        keeper_email, animal_id = keeper.email, animal.id
        db.session.remove()

    env = _env(url, tmp_path)
    after_grace = (due + timedelta(minutes=90)).isoformat()
    for _ in range(2):
        result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run-once",  # noqa: S603
                                 "flag_overdue_care", "--now", after_grace], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "flag_overdue_care" in result.stdout and "succeeded" in result.stdout

        client = app.test_client()
        token = client.post("/api/v1/auth/tokens", json={"email": keeper_email,
                                                         "password": factories.DEFAULT_PASSWORD}).json["token"]
        listed = client.get("/api/v1/alerts?status=open", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200
        assert [(a["kind"], a["task_id"], a["animal_id"], a["status"]) for a in listed.json["items"]] == [
            ("care_overdue", task_id, animal_id, "open")]
    with app.app_context():
        runs = db.session.execute(select(JobRun.items, JobRun.status, JobRun.runner)).all()
        db.session.remove()
    assert [tuple(run) for run in runs] == [(1, "succeeded", "cli"), (0, "succeeded", "cli")]
