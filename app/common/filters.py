"""Template filters and globals: local times, permission checks, navigation."""

from datetime import datetime

from flask import Flask, request
from flask_babel import format_date, format_datetime, get_locale, get_timezone

from app.common.db import utcnow


def localtime(value: datetime | None, fmt: str = "short") -> str:
    """An instant shown in the page's time zone (the facility's), e.g. '28 Nov 2026, 14:05'."""
    return format_datetime(value, fmt) if value else ""


def localdate(value, fmt: str = "medium") -> str:
    return format_date(value, fmt) if value else ""


def days_since(value: datetime | None) -> int | str:
    """Whole local days from an instant until today, in the page's time zone (e.g. days in care)."""
    if value is None:
        return ""
    zone = get_timezone()
    return (datetime.now(zone).date() - value.astimezone(zone).date()).days


def url_with(**changes) -> str:
    """The current URL with some query arguments replaced (for filters and paging links)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    from urllib.parse import urlencode

    return request.path + ("?" + urlencode(args) if args else "")


def init_filters(app: Flask) -> None:
    from app.auth.permissions import can

    app.add_template_filter(localtime)
    app.add_template_filter(localdate)
    app.add_template_filter(days_since)
    app.add_template_global(can)
    app.add_template_global(url_with)
    app.add_template_global(utcnow)
    app.add_template_global(lambda: str(get_locale() or "en"), name="current_locale")
