"""Daily care's scheduled job: make the care tasks of the coming window."""

from datetime import datetime

from app.care.services import generate_care_tasks


def make_care_tasks(now: datetime) -> int:
    """Tasks for the facilities' today and tomorrow from every active schedule; returns how many were made.

    Safe to run at any time and any number of times: a task exists once per schedule and due time.
    """
    return generate_care_tasks(now)
