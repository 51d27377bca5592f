"""What daily care adds to an animal's record: its care panel, and care and weights on the timeline."""

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.animals.models import Animal
from app.animals.panels import Panel, record_panel
from app.animals.timeline import TimelineEntry, timeline_source
from app.care import queries
from app.care.forms_round import DOSE_LABELS, EATEN_LABELS, KIND_LABELS
from app.care.models import CareLog, CareTask, Weight
from app.extensions import db

RECENT_LOGS = 5

# What became of a dose, as the timeline's title says it; the prescription's text follows.
DOSE_TITLES = {"given": _l("Dose given"), "refused": _l("Dose refused"), "vomited": _l("Dose vomited"),
               "missed": _l("Dose missed")}


def _with_dose_text(stmt):
    """Logs with their task's schedule, whose instructions are a dose's text (one query, not one per log)."""
    return stmt.options(joinedload(CareLog.task).joinedload(CareTask.schedule))


def dose_text(log: CareLog) -> str:
    """The prescription's text of a dose's log ("Meloxicam 1.2 mg = 0.8 ml PO · BID"), or ""."""
    schedule = log.task.schedule if log.task_id and log.task is not None else None
    return schedule.instructions if schedule is not None else ""


def dose_title(log: CareLog) -> str:
    """ "Dose given: Meloxicam 1.2 mg …" for a dose's log."""
    title = str(DOSE_TITLES.get(log.given, _l("Dose")))
    text = dose_text(log)
    return f"{title}: {text}" if text else title


@dataclass(frozen=True)
class WeightChart:
    """A server-drawn line of weighings: SVG coordinates and the figures on the axes."""

    points: list[tuple[float, float]]
    low: Decimal
    high: Decimal
    width: int = 320
    height: int = 140

    @property
    def polyline(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.points)


def weight_chart(series: list[Weight], width: int = 320, height: int = 140, pad: int = 12) -> WeightChart | None:
    if len(series) < 2:
        return None
    first, last = series[0].measured_at, series[-1].measured_at
    span = max((last - first).total_seconds(), 1)
    low, high = min(w.grams for w in series), max(w.grams for w in series)
    rise = float(high - low) or 1.0
    points = [(pad + (w.measured_at - first).total_seconds() / span * (width - 2 * pad),
               height - pad - float(w.grams - low) / rise * (height - 2 * pad)) for w in series]
    return WeightChart(points, low, high, width, height)


@record_panel(order=10)
def _care_panels(animal: Animal) -> list[Panel]:
    """The care panel, and above the record a warning when the weighings show a loss."""
    series = queries.weight_series(animal.id)
    logs = db.session.execute(
        _with_dose_text(queries.care_logs_stmt(animal_id=animal.id)).limit(RECENT_LOGS)).unique().scalars().all()
    schedules = db.session.execute(queries.schedules_stmt(animal_id=animal.id)).unique().scalars().all()
    panels = [Panel("care/_animal_care.html", {
        "animal": animal, "weights": list(reversed(series[-5:])), "chart": weight_chart(series), "logs": logs,
        "schedules": schedules, "kind_labels": KIND_LABELS, "eaten_labels": EATEN_LABELS,
        "dose_labels": DOSE_LABELS, "dose_titles": DOSE_TITLES, "dose_text": dose_text,
    })]
    if loss := queries.weight_loss(series):
        panels.append(Panel("care/_weight_warning.html", {"loss": loss}, place="top"))
    return panels


def _describe(log: CareLog) -> str:
    parts = []
    if log.eaten:
        parts.append(str(_l("eaten: %(amount)s", amount=EATEN_LABELS.get(log.eaten, log.eaten))))
    if log.head_count is not None:
        parts.append(str(_l("%(n)d seen", n=log.head_count)))
    parts += [text for text in (log.appetite, log.stool, log.behaviour, log.notes) if text]
    if log.late_entry:
        parts.append(str(_l("late entry")))
    return " · ".join(parts)


@timeline_source
def _care_logs(animal: Animal, limit: int) -> list[TimelineEntry]:
    rows = db.session.execute(_with_dose_text(
        select(CareLog).options(joinedload(CareLog.recorded_by))
        .where(CareLog.animal_id == animal.id).order_by(CareLog.done_at.desc()).limit(limit)
    )).unique().scalars()
    return [TimelineEntry(at=log.done_at, kind="care",
                          title=dose_title(log) if log.given else str(KIND_LABELS.get(log.kind, log.kind)),
                          detail=_describe(log), actor=log.recorded_by.name if log.recorded_by else "")
            for log in rows]


@timeline_source
def _weights(animal: Animal, limit: int) -> list[TimelineEntry]:
    rows = db.session.execute(
        select(Weight).options(joinedload(Weight.recorded_by))
        .where(Weight.animal_id == animal.id).order_by(Weight.measured_at.desc()).limit(limit)
    ).scalars()
    return [TimelineEntry(at=w.measured_at, kind="weight", title=str(_l("Weighed: %(grams)s g", grams=w.grams)),
                          detail=str(_l("body condition %(bcs)d/9", bcs=w.bcs)) if w.bcs else "",
                          actor=w.recorded_by.name if w.recorded_by else "")
            for w in rows]
