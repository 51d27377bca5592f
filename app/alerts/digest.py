"""The email digest of new alerts: one plain-text email per user, in their language and time zone.

send_alert_digests(now) is the job (app/scheduler.py runs it daily). One SELECT finds every
(user, alert) pair to send, whatever the number of users: active staff, the kinds of alert
their role is for, at their facilities (every facility for network-wide staff), unresolved,
raised after the user's DigestMark (or in the FIRST_DIGEST_HOURS before without one) and up
to `now` less SETTLE. The emails are all written first, then sent over one SMTP connection.
Each reader's mark is moved to that cutoff just before their email goes, only if it is still
where this run read it: a second run as of the same time sends nothing, and two runs at once
send each email once. A reader whose email failed keeps their mark (one without a mark gets
it where their window began), so the same alerts, and any newer ones, go in the next run.
"""

import logging
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_date
from email.utils import make_msgid, parseaddr
from itertools import groupby
from urllib.parse import urlencode

import pytz
from flask import current_app, g
from flask_babel import force_locale, format_datetime, ngettext
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from app.alerts.kinds import KINDS, SEVERITY_LABELS, kinds_for
from app.alerts.messages import message_for
from app.alerts.models import Alert, AlertStatus, DigestMark, Severity
from app.animals.models import Animal
from app.auth.models import NETWORK_ROLES, Role, User, user_facilities
from app.care.models import CareTask
from app.common.db import UTCDateTime, utcnow
from app.extensions import db

log = logging.getLogger("rescue_ledger.alerts.digest")

FIRST_DIGEST_HOURS = 24  # a user without a mark yet gets the alerts of the last day, not the whole history
# An alert's raised_at is the `now` its job started with, and the job commits when it ends. The
# scheduler fires every job on one grid, so the daily digest starts with the jobs of that
# minute: alerts they raise would be committed after the digest read them, dated before its
# mark, and never sent. The digest stops this long before its `now`; later alerts go next time.
SETTLE = timedelta(minutes=15)
SMTP_TIMEOUT_S = 30

SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}


class DigestError(RuntimeError):
    """The mail server could not be reached, refused the session or every email: the run is recorded failed."""


@dataclass
class Digest:
    """One user's new alerts, and the mark they were read after."""

    user: User
    mark: datetime | None  # the user's DigestMark as this run read it; None before their first digest
    since: datetime  # the mark, or the start of the first digest's window
    alerts: list[Alert]  # subject loaded, by facility, then worst and newest first


def send_alert_digests(now: datetime) -> int:
    """Email each user their alerts raised since their last digest until SETTLE before `now`; returns emails sent.

    Off (0 at once) while MAIL_SERVER is not set. Raises DigestError when the server cannot
    be reached or refuses every email, so run_job records the run failed and no mark moves.
    An email refused, or left unsent when the connection drops, is logged and its user keeps
    their mark (retried next run) while the others' are sent. A user whose mark another run
    moved meanwhile is skipped: that run sends their email. Flushes, never commits.
    """
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        return 0
    until = now - SETTLE
    digests = pending_digests(until)
    if not digests:
        return 0
    # Written before connecting: a message that cannot be composed fails the run before anyone got one.
    emails = [(digest, compose_email(digest)) for digest in digests]
    sent = failed = 0
    with _smtp_connection(config) as smtp:
        for index, (digest, email) in enumerate(emails):
            user = digest.user
            if not _claim(digest, until):
                log.info("Alert digest to user %s left to the run that moved their mark first", user.id)
                continue
            try:
                smtp.send_message(email)
            except smtplib.SMTPServerDisconnected as error:
                failed += _connection_lost(config, digest, until, emails[index + 1:], error)
                break
            except smtplib.SMTPException as error:  # this recipient or this message was refused
                log.error("Alert digest to user %s <%s> not sent (retried next run): %s", user.id, user.email, error)
                _unclaim(digest, until)
                failed += 1
                continue
            except OSError as error:  # the connection broke (reset, timeout)
                failed += _connection_lost(config, digest, until, emails[index + 1:], error)
                break
            sent += 1
    if failed and not sent:
        raise DigestError(f"no alert digest could be sent through {config['MAIL_SERVER']}:{config['MAIL_PORT']} "
                          f"({len(emails)} to send); see the log")
    return sent


def pending_digests(until: datetime) -> list[Digest]:
    """Every user's digest of the alerts raised up to `until`, users with nothing new left out.

    One SELECT for all users and alerts (subjects joined in), one more for the users'
    facilities (their time zone). The kind-by-role rule of KINDS is written into the SQL.
    """
    window_start = literal(until - timedelta(hours=FIRST_DIGEST_HOURS), UTCDateTime())
    since = func.coalesce(DigestMark.sent_until, window_start, type_=UTCDateTime())
    rows = db.session.execute(
        select(User, Alert, DigestMark.sent_until.label("mark"), since.label("since"))
        .join(Alert, _role_sees_kind())
        .outerjoin(DigestMark, DigestMark.user_id == User.id)
        .where(User.is_active, Alert.status != AlertStatus.RESOLVED,
               Alert.raised_at > since, Alert.raised_at <= literal(until, UTCDateTime()),
               _at_users_facilities())
        .options(joinedload(Alert.facility), joinedload(Alert.animal).joinedload(Animal.species),
                 joinedload(Alert.task).joinedload(CareTask.enclosure), joinedload(Alert.case))
        .order_by(User.id, Alert.id)
    ).all()
    digests = []
    for _user_id, group in groupby(rows, key=lambda row: row.User.id):
        group = list(group)
        digests.append(Digest(user=group[0].User, mark=group[0].mark, since=group[0].since,
                              alerts=sorted((row.Alert for row in group), key=_reading_order)))
    return digests


def _role_sees_kind():
    """The user's role is in the audience of the alert's kind: one branch per role that has kinds."""
    return or_(*(and_(User.role == role.value, Alert.kind.in_(kinds))
                 for role in Role if (kinds := kinds_for(role))))


def _at_users_facilities():
    """The alert's facility is one of the user's, or the user is network-wide (User.facility_ids in SQL)."""
    member = exists().where(user_facilities.c.user_id == User.id,
                            user_facilities.c.facility_id == Alert.facility_id)
    network_wide = and_(User.role.in_([role.value for role in NETWORK_ROLES]),
                        ~exists().where(user_facilities.c.user_id == User.id))
    return or_(member, network_wide)


def _reading_order(alert: Alert):
    return (alert.facility.code, SEVERITY_RANK.get(alert.severity, len(SEVERITY_RANK)),
            -alert.raised_at.timestamp(), -alert.id)


# --- the email -----------------------------------------------------------------------------

def compose_email(digest: Digest) -> EmailMessage:
    """The digest as a plain-text email in the user's language and their first facility's time zone."""
    config = current_app.config
    with reading_as(digest.user):
        count = len(digest.alerts)
        subject = ngettext("Rescue Ledger: %(num)d new alert", "Rescue Ledger: %(num)d new alerts", count)
        body = _body(digest, config["SERVER_URL"].rstrip("/"))
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = config["MAIL_FROM"]
    email["To"] = Address(display_name=digest.user.name, addr_spec=digest.user.email)
    email["Date"] = rfc2822_date(utcnow())
    # The domain is given so make_msgid does not look up this host's name on every email.
    email["Message-ID"] = make_msgid(domain=parseaddr(config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost")
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    email.set_content(body)
    return email


def _body(digest: Digest, base_url: str) -> str:
    count = len(digest.alerts)
    lines = [_("Hello %(name)s,", name=digest.user.name), "",
             ngettext("%(num)d new alert since %(since)s:", "%(num)d new alerts since %(since)s:", count,
                      since=format_datetime(digest.since, "short")), ""]
    for facility, at_facility in groupby(digest.alerts, key=lambda alert: alert.facility):
        lines += [f"{facility.name} ({facility.code})", ""]
        for severity, alerts in groupby(at_facility, key=lambda alert: alert.severity):
            lines.append(f"  {SEVERITY_LABELS.get(severity, severity)}")
            for alert in alerts:
                kind = KINDS.get(alert.kind)
                lines.append(f"  - {kind.label if kind else alert.kind}: {message_for(alert)}")
                query = urlencode({"kind": alert.kind, "facility_id": alert.facility_id})  # the inbox's filters
                lines.append(f"    {base_url}/alerts?{query}")
            lines.append("")
    lines += [_("All your alerts: %(url)s", url=f"{base_url}/alerts"), "", "-- ",
              _("Rescue Ledger emails you once a day when alerts for your role and facilities were raised "
                "since the last email.")]
    return "\n".join(lines) + "\n"


@contextmanager
def reading_as(user: User) -> Iterator[None]:
    """Flask-Babel's locale and time zone set to the user's for the block, as their own pages choose them.

    app/common/i18n.py picks the saved language and the first facility's zone from the
    signed-in user of a request; a job has no request, so the same choice is made here.
    Flask-Babel offers force_locale but nothing for the zone: the zone it keeps beside the
    locale on `g` is swapped the same way and put back after. It must be a pytz zone, as
    Flask-Babel's own (it calls normalize() on it).
    """
    config = current_app.config
    locale = user.locale if user.locale in config["LANGUAGES"] else config["BABEL_DEFAULT_LOCALE"]
    zone = pytz.timezone(user.display_timezone or config["DEFAULT_TIMEZONE"])
    with force_locale(locale):
        choices = g._flask_babel  # made by force_locale
        previous = getattr(choices, "babel_tzinfo", None)
        choices.babel_tzinfo = zone
        try:
            yield
        finally:
            choices.babel_tzinfo = previous


# --- sending -------------------------------------------------------------------------------

@contextmanager
def _smtp_connection(config) -> Iterator[smtplib.SMTP]:
    """One SMTP connection for the run: STARTTLS when MAIL_USE_TLS, login when MAIL_USERNAME.

    Raises DigestError when the server cannot be reached, refuses TLS or the login.
    """
    host, port = config["MAIL_SERVER"], config["MAIL_PORT"]
    try:
        smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_S)
    except OSError as error:  # smtplib's own errors are OSErrors too
        raise DigestError(f"cannot reach the mail server {host}:{port}: {error}") from error
    try:
        try:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        except OSError as error:
            raise DigestError(f"the mail server {host}:{port} refused the session: {error}") from error
        yield smtp
    finally:
        try:
            smtp.quit()
        except OSError:  # already gone: nothing to say goodbye to
            smtp.close()


def _connection_lost(config, current: Digest, until: datetime, unsent: list, error: Exception) -> int:
    """The email being sent and those after it wait for the next run; returns how many."""
    log.error("Connection to the mail server %s:%s lost; %d alert digests left for the next run: %s",
              config["MAIL_SERVER"], config["MAIL_PORT"], 1 + len(unsent), error)
    _unclaim(current, until)
    for digest, _email in unsent:
        _keep_window(digest)
    return 1 + len(unsent)


def _claim(digest: Digest, until: datetime) -> bool:
    """Move the user's mark to `until` if it is still where this run read it; False if another run moved it.

    Done before the email goes, so that two runs at once do not both send it: on PostgreSQL
    the second waits on the row until the first commits, then finds the mark moved; SQLite
    lets one writer at a time. A mark never moves back: `until` is after the one read.
    """
    if digest.mark is None:
        statement = (_insert()(DigestMark.__table__).values(user_id=digest.user.id, sent_until=until)
                     .on_conflict_do_nothing(index_elements=[DigestMark.user_id]))
    else:
        statement = (update(DigestMark)
                     .where(DigestMark.user_id == digest.user.id, DigestMark.sent_until == digest.mark)
                     .values(sent_until=until))
    # An INSERT's rowcount is otherwise lost once its cursor closes (psycopg gives -1).
    statement = statement.execution_options(preserve_rowcount=True, synchronize_session=False)
    return db.session.execute(statement).rowcount == 1


def _unclaim(digest: Digest, until: datetime) -> None:
    """The email failed: the mark goes back where the window began, for the next run to send it."""
    db.session.execute(update(DigestMark)
                       .where(DigestMark.user_id == digest.user.id, DigestMark.sent_until == until)
                       .values(sent_until=digest.since)
                       .execution_options(synchronize_session=False))


def _keep_window(digest: Digest) -> None:
    """An email not tried: a user without a mark gets one where their window began.

    Without it, the next run's first-digest window (the last FIRST_DIGEST_HOURS) would start
    after the alerts this email was to carry, and they would never be sent.
    """
    db.session.execute(_insert()(DigestMark.__table__).values(user_id=digest.user.id, sent_until=digest.since)
                       .on_conflict_do_nothing(index_elements=[DigestMark.user_id]))


def _insert():
    return postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
