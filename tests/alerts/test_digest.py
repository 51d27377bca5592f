"""The email digest of new alerts, sent to a real SMTP server (aiosmtpd) on a free local port."""

import email
import email.policy
import logging
import socket
from datetime import date, timedelta

import pytest
from aiosmtpd.controller import Controller
from babel.dates import format_date
from flask_babel import get_locale, get_timezone
from sqlalchemy import select

from app.alerts import digest
from app.alerts.digest import SETTLE, DigestError, pending_digests, send_alert_digests
from app.alerts.models import AlertStatus, DigestMark, JobRunStatus
from app.care.models import CareTask
from app.extensions import db as _db
from app.scheduler import run_job
from tests import factories
from tests.alerts.conftest import NOW

SEND = NOW + SETTLE  # a digest run that carries the alerts raised up to NOW


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """aiosmtpd handler: keeps every message received; refuses the recipients in `refuse` and hangs up
    on a message to one in `hang_up_on`."""

    def __init__(self):
        self.received = []
        self.refuse: set[str] = set()
        self.hang_up_on: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.hang_up_on & set(envelope.rcpt_tos):
            server.transport.close()  # the connection drops before the message is accepted
            return "421 closing"
        self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"

    def to(self, address: str):
        """The one message sent to `address`."""
        found = [message for message in self.received if message["To"].addresses[0].addr_spec == address]
        assert len(found) == 1, [message["To"] for message in self.received]
        return found[0]

    def recipients(self) -> set[str]:
        return {message["To"].addresses[0].addr_spec for message in self.received}


@pytest.fixture
def smtp_server():
    """A local SMTP server collecting what it receives; stopped after the test."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.port = controller.port
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def mail_on(app, monkeypatch, smtp_server):
    """The digest turned on, pointed at the local server (the config is put back after the test)."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp_server.port)
    monkeypatch.setitem(app.config, "MAIL_FROM", "Rescue Ledger <alerts@rescue.example.org>")
    return smtp_server


@pytest.fixture
def animal(facility):
    """animal(at=facility): an animal whose accession number names its alerts in the emails."""

    def _make(at=None):
        return factories.AnimalFactory(case=factories.CaseFactory(facility=at or facility))

    return _make


def marks() -> dict[int, object]:
    _db.session.expire_all()
    return dict(_db.session.execute(select(DigestMark.user_id, DigestMark.sent_until)).all())


def body_of(message) -> str:
    return message.get_content()


def test_off_by_default_sends_nothing(app, db, smtp_server, make_user, make_alert):
    assert app.config["MAIL_SERVER"] is None
    make_user("keeper")
    make_alert("weight_missing")

    assert send_alert_digests(SEND) == 0
    assert smtp_server.received == []
    assert marks() == {}


def test_each_user_gets_the_kinds_of_their_role_at_their_facilities(
        mail_on, make_user, make_alert, animal, facility, other_facility):
    keeper = make_user("keeper")
    coordinator = make_user("coordinator", facilities=[facility])
    network_coordinator = make_user("coordinator")  # no facility: every facility
    viewer = make_user("viewer")
    make_user("keeper", is_active=False)
    weight_here, release_here, quarantine_here, weight_there = animal(), animal(), animal(), animal(other_facility)
    make_alert("weight_missing", animal=weight_here)  # keepers, vets, coordinators
    make_alert("release_ready", animal=release_here, severity="info")  # coordinators only
    make_alert("quarantine_ending", animal=quarantine_here, severity="info")  # vets and coordinators
    make_alert("weight_missing", animal=weight_there)  # another facility

    assert send_alert_digests(SEND) == 3

    assert mail_on.recipients() == {keeper.email, coordinator.email, network_coordinator.email}
    assert viewer.email not in mail_on.recipients()

    def animals_in(user):
        body = body_of(mail_on.to(user.email))
        return {a.accession_number for a in (weight_here, release_here, quarantine_here, weight_there)
                if a.accession_number in body}

    assert animals_in(keeper) == {weight_here.accession_number}
    assert animals_in(coordinator) == {weight_here.accession_number, release_here.accession_number,
                                       quarantine_here.accession_number}
    assert animals_in(network_coordinator) == {weight_here.accession_number, release_here.accession_number,
                                               quarantine_here.accession_number, weight_there.accession_number}
    assert mail_on.to(keeper.email)["Subject"] == "Rescue Ledger: 1 new alert"
    assert mail_on.to(network_coordinator.email)["Subject"] == "Rescue Ledger: 4 new alerts"
    assert marks() == {keeper.id: NOW, coordinator.id: NOW, network_coordinator.id: NOW}


def test_a_user_without_new_alerts_gets_no_email(mail_on, make_user, make_alert, other_facility):
    keeper = make_user("keeper")  # at `facility`
    make_user("keeper", facilities=[other_facility])
    make_alert("weight_missing", facility_id=other_facility.id)
    make_alert("release_ready")  # a kind keepers are not for

    assert send_alert_digests(SEND) == 1
    assert keeper.email not in mail_on.recipients()
    assert keeper.id not in marks()


def test_nothing_to_send_connects_to_nothing(app, db, monkeypatch, make_user):
    make_user("keeper")
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nobody listens there

    assert send_alert_digests(SEND) == 0


def test_a_second_run_as_of_the_same_time_sends_nothing(mail_on, make_user, make_alert):
    make_user("keeper")
    make_alert("weight_missing")

    assert send_alert_digests(SEND) == 1
    assert send_alert_digests(SEND) == 0
    assert len(mail_on.received) == 1


def test_an_alert_raised_after_the_mark_is_sent_next_time_alone(mail_on, make_user, make_alert, animal):
    keeper = make_user("keeper")
    old, new = animal(), animal()
    make_alert("weight_missing", animal=old, raised_at=NOW - timedelta(hours=1))
    assert send_alert_digests(SEND) == 1

    make_alert("weight_missing", animal=new, raised_at=NOW + timedelta(hours=3))
    tomorrow = NOW + timedelta(days=1)
    assert send_alert_digests(tomorrow + SETTLE) == 1

    latest = body_of(mail_on.received[-1])
    assert new.accession_number in latest
    assert old.accession_number not in latest
    assert marks() == {keeper.id: tomorrow}


def test_the_first_digest_covers_the_last_day_and_nothing_after_now(mail_on, make_user, make_alert, animal):
    make_user("keeper")
    too_old, recent, later = animal(), animal(), animal()
    make_alert("weight_missing", animal=too_old, raised_at=NOW - timedelta(hours=25))
    make_alert("weight_missing", animal=recent, raised_at=NOW - timedelta(hours=23))
    make_alert("weight_missing", animal=later, raised_at=NOW + timedelta(minutes=1))

    assert send_alert_digests(SEND) == 1
    body = body_of(mail_on.received[0])
    assert recent.accession_number in body
    assert too_old.accession_number not in body
    assert later.accession_number not in body


def test_alerts_of_jobs_perhaps_still_running_wait_for_the_next_digest(mail_on, make_user, make_alert, animal):
    """A job that started at NOW commits its alerts, dated NOW, when it ends: maybe after the digest read."""
    keeper = make_user("keeper")
    settled, recent = animal(), animal()
    make_alert("weight_missing", animal=settled, raised_at=NOW - SETTLE)
    make_alert("weight_missing", animal=recent, raised_at=NOW - SETTLE + timedelta(minutes=1))

    assert send_alert_digests(NOW) == 1
    assert marks() == {keeper.id: NOW - SETTLE}
    assert recent.accession_number not in body_of(mail_on.received[0])

    assert send_alert_digests(NOW + timedelta(days=1)) == 1
    assert recent.accession_number in body_of(mail_on.received[1])
    assert settled.accession_number not in body_of(mail_on.received[1])


def test_resolved_alerts_are_not_sent_acknowledged_ones_are(mail_on, make_user, make_alert, animal):
    keeper = make_user("keeper")
    resolved, acknowledged = animal(), animal()
    make_alert("weight_missing", animal=resolved, status=AlertStatus.RESOLVED)
    make_alert("weight_missing", animal=acknowledged, status=AlertStatus.ACKNOWLEDGED)

    assert send_alert_digests(SEND) == 1
    body = body_of(mail_on.to(keeper.email))
    assert acknowledged.accession_number in body
    assert resolved.accession_number not in body


def test_the_body_lists_each_message_by_facility_and_severity_with_links(
        app, mail_on, make_user, make_alert, animal, facility, other_facility, monkeypatch):
    monkeypatch.setitem(app.config, "SERVER_URL", "https://ledger.example.org/")
    coordinator = make_user("coordinator", name="Sokha")
    weighed = animal()
    enclosure = factories.EnclosureFactory(facility=facility, name="Macaque house")
    task = CareTask(facility_id=facility.id, enclosure_id=enclosure.id, kind="clean",
                    due_at=NOW - timedelta(hours=6))
    _db.session.add(task)
    _db.session.flush()
    make_alert("weight_missing", animal=weighed, reference_at=NOW - timedelta(days=40), raised_at=NOW)
    make_alert("care_overdue", task=task, severity="critical", reference_at=task.due_at,
               raised_at=NOW - timedelta(hours=2))
    make_alert("hold_review", case=factories.CaseFactory(facility=other_facility, reference="C-2026-0042"),
               severity="info", reference_at=NOW - timedelta(days=100))

    assert send_alert_digests(SEND) == 1
    message = mail_on.to(coordinator.email)
    body = body_of(message)

    assert message["Subject"] == "Rescue Ledger: 3 new alerts"
    assert message["From"] == "Rescue Ledger <alerts@rescue.example.org>"
    assert message["To"].addresses[0].display_name == "Sokha"
    assert message.get_content_type() == "text/plain"
    assert "Hello Sokha," in body
    assert f"{weighed.accession_number} has not been weighed since" in body
    assert "Clean for Macaque house was due at" in body
    assert "The evidence hold on case C-2026-0042 was last set or reviewed on" in body
    assert f"https://ledger.example.org/alerts?kind=care_overdue&facility_id={facility.id}" in body
    assert f"https://ledger.example.org/alerts?kind=weight_missing&facility_id={facility.id}" in body
    assert f"https://ledger.example.org/alerts?kind=hold_review&facility_id={other_facility.id}" in body
    assert "All your alerts: https://ledger.example.org/alerts" in body.splitlines()
    # Facilities by code (KOH before PTK), then the worst first within each.
    order = [body.index(text) for text in ("Koh Kong Release Station (KOH)", "Information",
                                           "Phnom Tamao (PTK)", "Critical", "Care overdue",
                                           "Warning", "No recent weight")]
    assert order == sorted(order)


def test_dates_in_the_users_language_and_facility_time_zone(
        mail_on, make_user, make_alert, animal, facility, other_facility):
    other_facility.timezone = "UTC"
    _db.session.flush()
    reader_km = make_user("keeper", locale="km")  # at `facility`, in Phnom Penh (UTC+7)
    reader_utc = make_user("keeper", facilities=[other_facility])
    weighed_at = NOW.replace(hour=20) - timedelta(days=1)  # 9 June 20:00 UTC is 10 June in Phnom Penh
    make_alert("weight_missing", animal=animal(), reference_at=weighed_at)
    make_alert("weight_missing", animal=animal(other_facility), reference_at=weighed_at)

    locale_before, zone_before = str(get_locale()), get_timezone()
    assert send_alert_digests(SEND) == 2

    assert format_date(date(2026, 6, 10), "medium", locale="km") in body_of(mail_on.to(reader_km.email))
    assert "Jun 9, 2026" in body_of(mail_on.to(reader_utc.email))
    # The reader's settings do not outlive their email.
    assert (str(get_locale()), get_timezone()) == (locale_before, zone_before)


def test_an_unreachable_server_fails_the_run_and_moves_no_mark(app, db, monkeypatch, make_user, make_alert):
    make_user("keeper")
    make_alert("weight_missing")
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nobody listens there

    with pytest.raises(DigestError, match="cannot reach the mail server"):
        send_alert_digests(SEND)
    assert marks() == {}

    run = run_job("send_alert_digest", SEND)
    assert run.status == JobRunStatus.FAILED
    assert "cannot reach the mail server" in run.error
    assert marks() == {}


def test_a_refused_email_is_logged_and_its_user_keeps_the_mark(mail_on, make_user, make_alert, caplog, monkeypatch):
    # The migrations' logging.config.fileConfig disabled the loggers that existed when the suite's schema was made.
    monkeypatch.setattr(logging.getLogger("rescue_ledger.alerts.digest"), "disabled", False)
    refused, accepted = make_user("keeper"), make_user("keeper")
    make_alert("weight_missing")
    mail_on.refuse.add(refused.email)

    with caplog.at_level(logging.ERROR, logger="rescue_ledger.alerts.digest"):
        assert send_alert_digests(SEND) == 1
    assert mail_on.recipients() == {accepted.email}
    # The refused one's window is kept from where it began, or the next run's would start after this alert.
    assert marks() == {accepted.id: NOW, refused.id: NOW - timedelta(hours=24)}
    assert f"<{refused.email}> not sent" in caplog.text

    mail_on.refuse.clear()
    assert send_alert_digests(SEND + timedelta(days=1)) == 1  # retried: the alert is still new for them
    assert mail_on.recipients() == {accepted.email, refused.email}


def test_a_dropped_connection_leaves_the_rest_for_the_next_run(mail_on, make_user, make_alert):
    first, dropped, after = make_user("keeper"), make_user("keeper"), make_user("keeper")
    make_alert("weight_missing")
    mail_on.hang_up_on.add(dropped.email)

    assert send_alert_digests(SEND) == 1

    assert mail_on.recipients() == {first.email}
    window_start = NOW - timedelta(hours=24)
    assert marks() == {first.id: NOW, dropped.id: window_start, after.id: window_start}


def test_two_runs_at_once_send_each_email_once(mail_on, make_user, make_alert, monkeypatch):
    """A run that read the marks before another run moved them leaves those users to that run."""
    marked, first_timer = make_user("keeper"), make_user("keeper")
    _db.session.add(DigestMark(user_id=marked.id, sent_until=NOW - timedelta(hours=2)))
    make_alert("weight_missing", raised_at=NOW - timedelta(hours=1))
    read_before = pending_digests(NOW)  # the slower run has read the marks...
    assert send_alert_digests(SEND) == 2  # ...when the faster one sends and moves them

    monkeypatch.setattr(digest, "pending_digests", lambda until: read_before)
    assert send_alert_digests(SEND) == 0

    assert len(mail_on.received) == 2
    assert marks() == {marked.id: NOW, first_timer.id: NOW}


def test_every_email_refused_fails_the_run(mail_on, make_user, make_alert):
    keeper = make_user("keeper")
    make_alert("weight_missing")
    mail_on.refuse.add(keeper.email)

    run = run_job("send_alert_digest", SEND)

    assert run.status == JobRunStatus.FAILED
    assert "no alert digest could be sent" in run.error
    assert marks() == {}


def test_through_the_job_runner(mail_on, make_user, make_alert, other_facility):
    make_user("keeper")
    make_user("coordinator")
    make_user("vet", facilities=[other_facility])  # nothing for them
    make_alert("weight_missing")

    run = run_job("send_alert_digest", SEND)

    assert run.status == JobRunStatus.SUCCEEDED, run.error
    assert run.items == 2 == len(mail_on.received)


def test_the_selection_takes_as_many_queries_for_ten_users_as_for_one(
        db, make_user, make_alert, facility, other_facility, count_queries):
    make_user("keeper")
    make_alert("weight_missing")
    make_alert("care_overdue")
    db.session.expire_all()
    with count_queries() as one_user:
        assert len(pending_digests(NOW)) == 1
    assert one_user.count <= 2, one_user  # users and alerts with their subjects; the users' facilities

    for _ in range(3):
        make_user("keeper", facilities=[facility, other_facility])
        make_user("coordinator")
        make_user("vet")
    make_alert("weight_missing", facility_id=other_facility.id)
    db.session.expire_all()
    with count_queries() as ten_users:
        assert len(pending_digests(NOW)) == 10

    assert ten_users.count == one_user.count, ten_users
