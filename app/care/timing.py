"""When a schedule's tasks fall due: local times of day in the facility's zone, turned into UTC."""

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# An interval schedule without times of day falls due in the morning round.
DEFAULT_TIME = "08:00"


def window_days(now: datetime, tz: ZoneInfo) -> tuple[date, date]:
    """The rolling window tasks are made for: the facility's today and tomorrow."""
    today = now.astimezone(tz).date()
    return today, today + timedelta(days=1)


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where a local day starts and the next one starts."""
    start = datetime.combine(day, time(), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def falls_on(day: date, *, starts_on: date, ends_on: date | None, every_days: int | None) -> bool:
    if day < starts_on or (ends_on is not None and day > ends_on):
        return False
    return not every_days or (day - starts_on).days % every_days == 0


def due_times(*, times: list[str], every_days: int | None, starts_on: date, ends_on: date | None,
              first_day: date, last_day: date, tz: ZoneInfo) -> Iterator[datetime]:
    """Every due instant (UTC) of a schedule on the local days first_day..last_day.

    A time that does not exist on a day (a daylight-saving gap) is taken as zoneinfo
    reads it, an hour later; the facility's wall clock is what keepers work by.
    """
    day = first_day
    while day <= last_day:
        if falls_on(day, starts_on=starts_on, ends_on=ends_on, every_days=every_days):
            for value in sorted(set(times or [DEFAULT_TIME])):
                local = datetime.combine(day, time.fromisoformat(value), tzinfo=tz)
                yield local.astimezone(UTC)
        day += timedelta(days=1)


def grace(kind: str) -> timedelta:
    """How long after its due time a task of this kind becomes overdue (CARE_GRACE_MINUTES, else an hour)."""
    return timedelta(minutes=current_app.config["CARE_GRACE_MINUTES"].get(kind, 60))


def overdue_at_default(context) -> datetime:
    """The column default of CareTask.overdue_at: its due time plus its kind's grace."""
    params = context.get_current_parameters()
    return params["due_at"] + grace(params["kind"])
