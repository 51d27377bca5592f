"""The one table of scheduled jobs, run_job(), and the scheduler process behind `flask scheduler ...`.

The scheduler is its own process (`flask scheduler run`); web workers never start it.
Several may be started by mistake: a lease row in the database lets one act while the
others wait, and a waiting one takes over when the lease runs out (the holder died).
Each trigger is also claimed by a JobRun row unique per (job, scheduled_for), so even
two schedulers acting at once run a trigger once. Jobs are plain functions (now) -> int.
"""

import logging
import os
import signal
import socket
import traceback
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import click
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import current_app
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.alerts import digest
from app.alerts import jobs as alert_jobs
from app.alerts.models import JobRun, JobRunStatus, SchedulerLease
from app.alerts.queries import last_runs
from app.care import jobs as care_jobs
from app.common.audit import acting_as
from app.common.db import UTCDateTime, utcnow
from app.extensions import db

log = logging.getLogger("rescue_ledger.scheduler")

# Every trigger falls on a grid counted from here, so all schedulers agree on which one is due.
GRID_ORIGIN = datetime(2020, 1, 1, tzinfo=UTC)
LEASE_NAME = "scheduler"


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[datetime], int]
    every_seconds: int  # the default; SCHEDULER_INTERVALS may change it per deployment
    description: object  # a lazy string, shown on the admin's job runs page


JOBS = {job.name: job for job in (
    Job("make_care_tasks", care_jobs.make_care_tasks, 15 * 60, _l("Care tasks for today and tomorrow")),
    Job("flag_overdue_care", alert_jobs.flag_overdue_care, 5 * 60, _l("Overdue care tasks and doses")),
    Job("flag_weights", alert_jobs.flag_weights, 60 * 60, _l("No recent weight; weight loss")),
    Job("flag_quarantine", alert_jobs.flag_quarantine, 60 * 60, _l("Quarantine ending or past its end")),
    Job("flag_release_readiness", alert_jobs.flag_release_readiness, 60 * 60,
        _l("Ready for release; readiness reviews overdue; assessments expiring")),
    Job("flag_evidence_holds", alert_jobs.flag_evidence_holds, 24 * 60 * 60, _l("Evidence holds to review")),
    Job("send_alert_digest", digest.send_alert_digests, 24 * 60 * 60, _l("Email digest of new alerts")),
)}


def interval_of(app, name: str) -> int:
    return app.config["SCHEDULER_INTERVALS"].get(name, JOBS[name].every_seconds)


def trigger_slot(now: datetime, every_seconds: int) -> datetime:
    """The grid time of the trigger that fired last at or before `now`."""
    elapsed = int((now - GRID_ORIGIN).total_seconds())
    return GRID_ORIGIN + timedelta(seconds=elapsed - elapsed % every_seconds)


def run_job(name: str, now: datetime | None = None, *, scheduled_for: datetime | None = None,
            runner: str = "cli") -> JobRun | None:
    """Run one job as of `now`, recorded as a JobRun; commits the job's work once.

    With scheduled_for, the run first claims that trigger: None is returned when another
    process has claimed it. A failing job is rolled back, logged and recorded as failed;
    it never raises, so the scheduler and the other jobs go on.
    """
    job = JOBS[name]
    now = now or utcnow()
    run = JobRun(job=name, scheduled_for=scheduled_for, as_of=now, runner=runner, started_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(run)
    except IntegrityError:
        log.info("%s for %s has run already (a restart, or another scheduler): skipped", name, scheduled_for)
        return None
    db.session.commit()
    try:
        # The job's work sits in a savepoint: a failure takes back its writes, not the run's record.
        with acting_as(f"system:{name}"), db.session.begin_nested():
            items = job.run(now)
        run.items, run.status = items, JobRunStatus.SUCCEEDED
        log.info("%s as of %s: %s items", name, now.isoformat(), items)
    except Exception as error:  # one job's failure must not stop the others
        log.exception("%s as of %s failed", name, now.isoformat())
        run.status = JobRunStatus.FAILED
        run.error = "".join(traceback.format_exception(error))[-4000:]
    run.finished_at = utcnow()
    db.session.commit()
    return run


# --- the lease -------------------------------------------------------------------------------

def hold_lease(holder: str, now: datetime, seconds: int) -> SchedulerLease | None:
    """Take or renew the lease for `holder`; None while another holder's lease is unexpired. Commits."""
    until = now + timedelta(seconds=seconds)
    renewed = db.session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == LEASE_NAME,
               or_(SchedulerLease.holder == holder, SchedulerLease.expires_at <= now))
        .values(holder=holder, expires_at=until,
                acquired_at=case((SchedulerLease.holder == holder, SchedulerLease.acquired_at),
                                 else_=literal(now, UTCDateTime())))
    ).rowcount
    if not renewed:
        try:
            with db.session.begin_nested():
                db.session.add(SchedulerLease(name=LEASE_NAME, holder=holder, expires_at=until, acquired_at=now))
        except IntegrityError:  # another holder has the row, unexpired
            db.session.commit()
            return None
    db.session.commit()
    return db.session.execute(select(SchedulerLease).where(SchedulerLease.name == LEASE_NAME)).scalar_one()


def current_lease() -> SchedulerLease | None:
    return db.session.get(SchedulerLease, LEASE_NAME)


def release_lease(holder: str) -> None:
    """Let the lease go at once (a clean stop), so a waiting scheduler need not wait for expiry. Commits."""
    db.session.execute(update(SchedulerLease)
                       .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == holder)
                       .values(expires_at=utcnow()))
    db.session.commit()


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- the process -----------------------------------------------------------------------------

class SchedulerProcess:
    """One `flask scheduler run`: renews the lease on its own trigger and runs jobs while it holds it."""

    def __init__(self, app, holder: str | None = None):
        self.app = app
        self.holder = holder or runner_name()
        self.lease_seconds = app.config["SCHEDULER_LEASE_SECONDS"]
        self.lease_until: datetime | None = None  # while this process holds the lease
        self.waiting_for: str | None = None  # the other holder last seen, to log a change once
        self.scheduler = BlockingScheduler(timezone=UTC, job_defaults={
            # A trigger missed while the machine slept runs once, not once per missed time.
            "coalesce": True, "max_instances": 1, "misfire_grace_time": 60})

    def run(self) -> None:
        """Block until Ctrl-C or SIGTERM; then give the lease back."""
        renew_every = max(1, self.lease_seconds // 3)
        self.scheduler.add_job(self.renew, IntervalTrigger(seconds=renew_every), id="lease",
                               next_run_time=datetime.now(UTC))
        # Each job also fires once just after the lease is first taken: the trigger of the current
        # slot, so a scheduler restarted after a stop catches up on a daily job it missed, and
        # one that ran in this slot already (before a restart) is not run again (its claim fails).
        catch_up = datetime.now(UTC) + timedelta(seconds=3)
        for name in JOBS:
            every = interval_of(self.app, name)
            self.scheduler.add_job(self.fire, IntervalTrigger(seconds=every, start_date=GRID_ORIGIN),
                                   args=[name, every], id=name, next_run_time=catch_up)
        signal.signal(signal.SIGTERM, self.stop)
        log.info("Scheduler %s started: %s", self.holder,
                 ", ".join(f"{name} every {interval_of(self.app, name)} s" for name in JOBS))
        try:
            self.scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            with self.app.app_context():
                release_lease(self.holder)
            log.info("Scheduler %s stopped", self.holder)

    def stop(self, *_signal) -> None:
        """Stop at the next moment; a second signal while stopping (timeout, systemd) is ignored."""
        with suppress(SchedulerNotRunningError):
            self.scheduler.shutdown(wait=False)

    def renew(self) -> None:
        with self.app.app_context():
            now = utcnow()
            lease = hold_lease(self.holder, now, self.lease_seconds)
            if lease is not None:
                if self.lease_until is None:
                    log.info("Scheduler %s holds the lease: it runs the jobs", self.holder)
                self.lease_until, self.waiting_for = lease.expires_at, None
                return
            self.lease_until = None
            other = current_lease()
            if other is not None and other.holder != self.waiting_for:
                self.waiting_for = other.holder
                log.warning("Another scheduler (%s) holds the lease until %s; this one (%s) waits and "
                            "takes over if that one stops", other.holder, other.expires_at.isoformat(),
                            self.holder)

    def fire(self, name: str, every: int) -> None:
        now = utcnow()
        # Act only on a lease still valid now: a process that hung past its lease must not run jobs.
        if self.lease_until is None or self.lease_until <= now:
            return
        with self.app.app_context():
            run_job(name, now, scheduled_for=trigger_slot(now, every), runner=self.holder)


scheduler_cli = AppGroup("scheduler", help="Run the scheduled jobs (one scheduler process per deployment).")


@scheduler_cli.command("run")
def run_command():
    """Run the scheduler until Ctrl-C or SIGTERM (only one acts; others wait)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler logs every firing at INFO; our own lines say what ran.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    SchedulerProcess(current_app._get_current_object()).run()


@scheduler_cli.command("list")
def list_command():
    """The jobs, how often each runs, and its last run."""
    last = last_runs(list(JOBS))
    for name, job in JOBS.items():
        run = last.get(name)
        seen = (f"last {run.status} at {run.started_at:%Y-%m-%d %H:%M:%S}Z, {run.items} items" if run
                else "never run")
        click.echo(f"{name:<24} every {interval_of(current_app, name):>6} s  {job.description}  ({seen})")


@scheduler_cli.command("run-once")
@click.argument("job", type=click.Choice(sorted(JOBS)))
@click.option("--now", "now_text", help="ISO time to run as of (default: now); without an offset it is UTC.")
def run_once_command(job, now_text):
    """Run one job now, or as if the time were --now (tests, back-fills, a cron fallback)."""
    now = utcnow()
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.BadParameter("give an ISO 8601 time, e.g. 2026-06-10T09:00:00+07:00",
                                     param_hint="--now") from None
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
    run = run_job(job, now)
    click.echo(f"{job} as of {now.isoformat()}: {run.status}, {run.items if run.items is not None else 0} items")
    if run.status != JobRunStatus.SUCCEEDED:
        raise click.ClickException(run.error.strip().splitlines()[-1] if run.error else "failed")
