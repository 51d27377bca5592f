"""The job runs page for admins: every scheduled job with its interval and last run, then the runs.

A fixed number of queries whatever the number of runs: the last run of every job (one
query, an index seek per job on (job, started_at)), and the page's COUNT and rows.
The job table is app.scheduler's, imported when the page is asked for: the scheduler
imports the jobs of every domain, which must not load with this blueprint.
"""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.alerts.models import JobRun, JobRunStatus
from app.alerts.queries import job_runs_stmt, last_runs
from app.alerts.views import bp
from app.auth.permissions import require
from app.common.pagination import paginate
from app.reference.views import page_arg, per_page_arg

RUN_STATUS_LABELS = {JobRunStatus.RUNNING.value: _l("Running"), JobRunStatus.SUCCEEDED.value: _l("Succeeded"),
                     JobRunStatus.FAILED.value: _l("Failed")}


@dataclass(frozen=True)
class JobLine:
    """One line of the job table: the job, how often it runs here, and its last run (None: never run)."""

    name: str
    description: str
    every_seconds: int
    last: JobRun | None


def every(seconds: int) -> str:
    """An interval in its largest whole unit: "every 5 minutes", "every hour", "every day"."""
    if seconds % 86400 == 0:
        return ngettext("every day", "every %(num)d days", seconds // 86400)
    if seconds % 3600 == 0:
        return ngettext("every hour", "every %(num)d hours", seconds // 3600)
    if seconds % 60 == 0:
        return ngettext("every minute", "every %(num)d minutes", seconds // 60)
    return ngettext("every second", "every %(num)d seconds", seconds)


def duration(run: JobRun) -> str:
    """How long a finished run took: "0.4 s", "2 min 5 s"; empty while it runs."""
    if run.finished_at is None or run.started_at is None:
        return ""
    took = max(run.finished_at - run.started_at, timedelta(0)).total_seconds()
    if took < 60:
        return _("%(seconds)s s", seconds=f"{took:.1f}")
    minutes, seconds = divmod(round(took), 60)
    return _("%(minutes)d min %(seconds)d s", minutes=minutes, seconds=seconds)


@bp.get("/admin/job-runs")
@require("job_run.view")
def job_runs():
    """The job table with each job's last run; the runs, newest first, by job and status."""
    from app.scheduler import JOBS, interval_of

    job = request.args.get("job", "")
    job = job if job in JOBS else ""
    status = request.args.get("status", "")
    status = status if status in RUN_STATUS_LABELS else ""
    last = last_runs(list(JOBS))
    jobs = [JobLine(name, spec.description, interval_of(current_app, name), last.get(name))
            for name, spec in JOBS.items()]
    page = paginate(job_runs_stmt(job=job or None, status=status or None), page_arg(), per_page_arg())
    return render_template("alerts/job_runs.html", jobs=jobs, page=page, job=job, status=status,
                           status_labels=RUN_STATUS_LABELS, every=every, duration=duration)
