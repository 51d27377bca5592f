"""The job runs page: admins only; the job table with each job's interval and last run; the runs with their
errors folded away, by job and status; the same query count for 1 and 20 runs."""

import re
from datetime import timedelta

import pytest

from app.alerts.models import JobRun, JobRunStatus
from app.scheduler import JOBS
from tests.alerts.conftest import NOW


@pytest.fixture
def make_run(db):
    """A recorded run of `job`, finished `seconds` after it started unless still running."""
    made = []

    def _make(job="flag_weights", *, status=JobRunStatus.SUCCEEDED, started_at=None, seconds=1.5, items=3,
              error="", runner="host:1"):
        started_at = started_at or NOW - timedelta(minutes=len(made))
        run = JobRun(job=job, as_of=started_at, started_at=started_at, status=status, error=error, runner=runner,
                     finished_at=None if status == JobRunStatus.RUNNING else started_at + timedelta(seconds=seconds),
                     items=None if status != JobRunStatus.SUCCEEDED else items)
        db.session.add(run)
        db.session.flush()
        made.append(run)
        return run

    return _make


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _run_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-testid="run-row" data-run-id="(\d+)"', html)]


def _job_line(html: str, job: str) -> str:
    start = html.index(f'data-testid="job-line" data-job="{job}"')
    return html[start:html.index("</tr>", start)]


@pytest.mark.parametrize("role", ["viewer", "keeper", "vet", "coordinator"])
def test_only_admins_see_job_runs(client, login, role):
    login(role)
    assert client.get("/admin/job-runs").status_code == 403


def test_the_job_table_shows_every_job_its_interval_and_last_run(client, login, make_run):
    make_run("flag_weights", started_at=NOW - timedelta(hours=2), status=JobRunStatus.FAILED, error="old failure")
    make_run("flag_weights", started_at=NOW - timedelta(hours=1), seconds=125, items=7)
    make_run("flag_overdue_care", started_at=NOW, status=JobRunStatus.RUNNING)
    login("admin")
    html = _text(client.get("/admin/job-runs"))
    for name, job in JOBS.items():
        assert f'data-job="{name}"' in html and str(job.description) in html
    weights = _job_line(html, "flag_weights")
    assert "every hour" in weights and 'data-status="succeeded"' in weights and "2 min 5 s" in weights
    assert ">7<" in weights
    assert 'data-status="running"' in _job_line(html, "flag_overdue_care")
    assert "every 5 minutes" in _job_line(html, "flag_overdue_care")
    assert 'data-testid="job-never-run"' in _job_line(html, "flag_quarantine")
    assert "every day" in _job_line(html, "flag_evidence_holds")


def test_the_interval_is_the_deployments(app, client, login, monkeypatch):
    monkeypatch.setitem(app.config, "SCHEDULER_INTERVALS", {**app.config["SCHEDULER_INTERVALS"], "flag_weights": 120})
    login("admin")
    assert "every 2 minutes" in _job_line(_text(client.get("/admin/job-runs")), "flag_weights")


def test_a_failed_runs_error_is_shown_folded(client, login, make_run):
    failed = make_run("flag_quarantine", status=JobRunStatus.FAILED,
                      error="Traceback (most recent call last):\nOperationalError: database is locked <x>")
    ok = make_run("flag_weights", started_at=NOW - timedelta(hours=1))
    login("admin")
    html = _text(client.get("/admin/job-runs"))
    assert _run_ids(html) == [failed.id, ok.id]
    row = html[html.index(f'data-run-id="{failed.id}"'):]
    row = row[:row.index("</tr>")]
    assert '<details data-testid="run-error">' in row and "<details open" not in row
    assert "OperationalError: database is locked &lt;x&gt;" in row  # escaped, never markup
    assert 'data-status="failed"' in row and "host:1" in row
    ok_row = html[html.index(f'data-run-id="{ok.id}"'):]
    assert 'data-testid="run-error"' not in ok_row[:ok_row.index("</tr>")]


def test_runs_filter_by_job_and_status(client, login, make_run):
    weights = make_run("flag_weights")
    failed = make_run("flag_weights", status=JobRunStatus.FAILED, error="boom")
    care = make_run("flag_overdue_care")
    login("admin")

    def ids(query=""):
        return _run_ids(_text(client.get(f"/admin/job-runs{query}")))

    assert set(ids()) == {weights.id, failed.id, care.id}
    assert set(ids("?job=flag_weights")) == {weights.id, failed.id}
    assert ids("?status=failed") == [failed.id]
    assert ids("?job=flag_overdue_care&status=failed") == []
    assert set(ids("?job=nonsense&status=nonsense")) == {weights.id, failed.id, care.id}
    html = _text(client.get("/admin/job-runs?job=flag_weights&status=failed"))
    assert '<option value="flag_weights" selected>' in html and '<option value="failed" selected>' in html


def test_runs_are_newest_first_and_paginated(client, login, make_run):
    runs = [make_run(started_at=NOW - timedelta(minutes=n)) for n in range(3)]
    login("admin")
    assert _run_ids(_text(client.get("/admin/job-runs"))) == [r.id for r in runs]
    html = _text(client.get("/admin/job-runs?per_page=2&page=2"))
    assert _run_ids(html) == [runs[2].id] and "Page 2 of 2" in html


def test_the_page_costs_the_same_queries_for_1_and_20_runs(client, login, make_run, count_queries):
    login("admin")
    jobs = list(JOBS)
    statuses = [JobRunStatus.SUCCEEDED, JobRunStatus.FAILED, JobRunStatus.RUNNING]

    def add_one(n):
        make_run(jobs[n % len(jobs)], status=statuses[n % 3], error="boom" if n % 3 == 1 else "",
                 started_at=NOW - timedelta(minutes=n))

    add_one(0)
    client.get("/admin/job-runs")
    with count_queries() as one:
        html = _text(client.get("/admin/job-runs"))
    assert len(_run_ids(html)) == 1
    for n in range(1, 20):
        add_one(n)
    with count_queries() as twenty:
        html = _text(client.get("/admin/job-runs"))
    assert len(_run_ids(html)) == 20
    assert one.count == twenty.count, f"{one}\n----\n{twenty}"
