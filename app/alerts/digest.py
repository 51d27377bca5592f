"""The email digest of new alerts (filled in below this session)."""

from datetime import datetime


def send_alert_digests(now: datetime) -> int:
    return 0
