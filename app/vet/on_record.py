"""What veterinary care adds to an animal's record: the medical panel, badges in the header, vet timeline entries.

Every list is read with one query (its eager loads named, a window count for the
"N more" line), and the doses of all courses with one GROUP BY, so the record costs
the same number of queries whatever the length of the animal's medical history.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased, joinedload

from app.animals.models import Animal, AnimalStatus, Attachment, Outcome, OutcomeKind
from app.animals.panels import Panel, record_panel
from app.animals.timeline import TimelineEntry, timeline_source
from app.auth.models import Facility, User
from app.care.models import CareLog, CareTask, DoseResult, TaskStatus
from app.extensions import db
from app.vet import dosing, queries
from app.vet.deaths import pending_authorisation
from app.vet.models import LabResult, Prescription, PrescriptionStatus, Problem, ProblemStatus
from app.vet.quarantine import quarantine_state
from app.vet.queries import Listed, listed

RECENT_EXAMS = 5
MAX_PROBLEMS = 50
MAX_PRESCRIPTIONS = 30
MAX_LAB_RESULTS = 30
DEATHS = (OutcomeKind.DIED, OutcomeKind.EUTHANIZED)
NOT_GIVEN = (DoseResult.REFUSED, DoseResult.VOMITED, DoseResult.MISSED)

INTERPRETATION_LABELS = {"negative": _l("negative"), "positive": _l("positive"), "inconclusive": _l("inconclusive")}
TEST_STATE_LABELS = {"missing": _l("no sample"), "pending": _l("pending"), **INTERPRETATION_LABELS}


@dataclass(frozen=True)
class DoseTally:
    """What became of a course's doses: given, not given (refused, vomited, missed), and doses not cancelled."""

    given: int = 0
    not_given: int = 0
    total: int = 0


def dose_tallies(schedule_ids: list[int]) -> dict[int, DoseTally]:
    """Each course's dose tally, by schedule id: one GROUP BY over its tasks and their logs."""
    if not schedule_ids:
        return {}
    rows = db.session.execute(
        select(CareTask.schedule_id, func.sum(case((CareLog.given == DoseResult.GIVEN, 1), else_=0)),
               func.sum(case((CareLog.given.in_(NOT_GIVEN), 1), else_=0)),
               func.sum(case((CareTask.status != TaskStatus.CANCELLED, 1), else_=0)))
        .select_from(CareTask).outerjoin(CareLog, CareLog.task_id == CareTask.id)
        .where(CareTask.schedule_id.in_(schedule_ids)).group_by(CareTask.schedule_id)
    )
    return {sid: DoseTally(int(given or 0), int(not_given or 0), int(total or 0))
            for sid, given, not_given, total in rows}


@dataclass(frozen=True)
class PrescriptionRow:
    prescription: Prescription
    doses: DoseTally


def _deaths(animal_id: int) -> list[Outcome]:
    return list(db.session.execute(
        queries.outcomes_stmt(animal_id).where(Outcome.kind.in_(DEATHS))
        .options(joinedload(Outcome.recorded_by), joinedload(Outcome.authorised_by))
    ).scalars())


def _necropsy_files(animal_id: int, outcome_ids: list[int]) -> dict[int, list[Attachment]]:
    if not outcome_ids:
        return {}
    files: dict[int, list[Attachment]] = {}
    for attachment in db.session.execute(
        select(Attachment).where(Attachment.animal_id == animal_id, Attachment.outcome_id.in_(outcome_ids))
        .order_by(Attachment.uploaded_at)
    ).scalars():
        files.setdefault(attachment.outcome_id, []).append(attachment)
    return files


def medical_record(animal: Animal) -> dict:
    """Everything the medical panel and the header badges show, in a fixed number of queries.

    The animal comes with its species and case loaded (animals.queries.get_animal).
    """
    problems = listed(queries.problems_stmt(animal.id), MAX_PROBLEMS)
    prescriptions = listed(queries.prescriptions_stmt(animal.id), MAX_PRESCRIPTIONS)
    tallies = dose_tallies([p.schedule_id for p in prescriptions.rows if p.schedule_id])
    deaths = _deaths(animal.id)
    in_care = animal.status == AnimalStatus.IN_CARE
    held = in_care and animal.case.evidence_hold
    authorisation = pending_authorisation(animal) if held else None
    return {
        "animal": animal, "in_care": in_care, "held": held, "authorisation": authorisation,
        "authorised_by": db.session.get(User, authorisation.authorised_by_id)
        if authorisation and authorisation.authorised_by_id else None,
        "quarantine": quarantine_state(animal) if animal.in_quarantine else None,
        "cleared_by": db.session.get(User, animal.quarantine_cleared_by_id)
        if animal.quarantine_cleared_on and animal.quarantine_cleared_by_id else None,
        "problems": problems,
        "active_problems": [p for p in problems.rows if p.status == ProblemStatus.ACTIVE],
        "prescriptions": Listed([PrescriptionRow(p, tallies.get(p.schedule_id, DoseTally()))
                                 for p in prescriptions.rows], prescriptions.total),
        "exams": listed(queries.exams_stmt(animal.id), RECENT_EXAMS),
        "lab_results": listed(queries.lab_results_stmt(animal.id), MAX_LAB_RESULTS),
        "deaths": deaths, "necropsy_files": _necropsy_files(animal.id, [o.id for o in deaths]),
        "plain": dosing.plain, "test_states": TEST_STATE_LABELS,
        "interpretations": INTERPRETATION_LABELS,
    }


@record_panel(order=20)
def _medical_panels(animal: Animal) -> list[Panel]:
    """Quarantine and active problems in the header; the medical panel under it."""
    record = medical_record(animal)
    return [Panel("vet/_medical_header.html", record, place="header"), Panel("vet/_medical.html", record, place="top")]


# --- the timeline ------------------------------------------------------------------------

def _zone(animal: Animal) -> ZoneInfo:
    return ZoneInfo(db.session.get(Facility, animal.facility_id).timezone)


def _on_day(day: date, tz: ZoneInfo) -> datetime:
    """A day's entry sorts at the facility's noon; it is shown as a date (extra date_only)."""
    return datetime.combine(day, time(12), tzinfo=tz).astimezone(UTC)


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


@timeline_source
def _exams(animal: Animal, limit: int) -> list[TimelineEntry]:
    entries = []
    for exam in db.session.execute(queries.exams_stmt(animal.id).limit(limit)).scalars():
        vet = exam.examined_by.name if exam.examined_by else ""
        title = str(_l("Exam by %(vet)s", vet=vet) if vet else _l("Exam"))
        if exam.assessment:
            title = f"{title}: {_short(exam.assessment)}"
        detail = []
        if exam.weight_g is not None:
            detail.append(f"{dosing.plain(exam.weight_g)} g" + (f" · BCS {exam.bcs}/9" if exam.bcs else ""))
        if exam.temperature_c is not None:
            detail.append(f"{exam.temperature_c} °C")
        detail += [text for text in (exam.findings, exam.plan) if text]
        entries.append(TimelineEntry(at=exam.examined_at, kind="exam", title=title, detail=" · ".join(detail),
                                     actor=vet, extra={"exam_id": exam.id}))
    return entries


@timeline_source
def _problems(animal: Animal, limit: int) -> list[TimelineEntry]:
    """A problem's onset (or when it was recorded) and its resolution; problems ordered by their latest event."""
    tz = _zone(animal)
    rows = db.session.execute(
        select(Problem).where(Problem.animal_id == animal.id)
        .order_by(func.coalesce(Problem.resolved_on, Problem.onset_on, func.date(Problem.created_at)).desc(),
                  Problem.created_at.desc(), Problem.id.desc()).limit(limit)
    ).scalars()
    entries = []
    for problem in rows:
        if problem.onset_on:
            entries.append(TimelineEntry(at=_on_day(problem.onset_on, tz), kind="problem",
                                         title=str(_l("Problem: %(diagnosis)s", diagnosis=problem.diagnosis)),
                                         detail=problem.notes, extra={"date_only": True}))
        else:
            entries.append(TimelineEntry(at=problem.created_at, kind="problem",
                                         title=str(_l("Problem: %(diagnosis)s", diagnosis=problem.diagnosis)),
                                         detail=problem.notes))
        if problem.status == ProblemStatus.RESOLVED and problem.resolved_on:
            entries.append(TimelineEntry(at=_on_day(problem.resolved_on, tz), kind="problem",
                                         title=str(_l("Resolved: %(diagnosis)s", diagnosis=problem.diagnosis)),
                                         extra={"date_only": True}))
    return entries


@timeline_source
def _prescriptions(animal: Animal, limit: int) -> list[TimelineEntry]:
    stopper = aliased(User)
    rows = db.session.execute(
        select(Prescription, stopper.name).options(joinedload(Prescription.prescribed_by))
        .outerjoin(stopper, Prescription.stopped_by_id == stopper.id)
        .where(Prescription.animal_id == animal.id)
        .order_by(func.coalesce(Prescription.stopped_at, Prescription.prescribed_at).desc(), Prescription.id.desc())
        .limit(limit)
    ).all()
    entries = []
    for p, stopped_by in rows:
        dose = f"{dosing.plain(p.dose_mg)} mg" + (f" = {dosing.plain(p.volume_ml)} ml" if p.volume_ml is not None
                                                 else "")
        detail = [str(_l("%(per_kg)s mg/kg for %(grams)s g", per_kg=dosing.plain(p.dose_mg_per_kg),
                         grams=dosing.plain(p.weight_g_used)))]
        if p.instructions:
            detail.append(p.instructions)
        entries.append(TimelineEntry(
            at=p.prescribed_at, kind="prescription", detail=" · ".join(detail),
            title=str(_l("Prescribed %(drug)s %(dose)s %(route)s %(frequency)s, %(days)d days", drug=p.drug,
                         dose=dose, route=p.route, frequency=p.frequency, days=p.days)),
            actor=p.prescribed_by.name if p.prescribed_by else ""))
        if p.status == PrescriptionStatus.STOPPED and p.stopped_at:
            entries.append(TimelineEntry(at=p.stopped_at, kind="prescription", detail=p.stop_reason,
                                         title=str(_l("Stopped %(drug)s", drug=p.drug)), actor=stopped_by or ""))
    return entries


@timeline_source
def _lab_results(animal: Animal, limit: int) -> list[TimelineEntry]:
    tz = _zone(animal)
    rows = db.session.execute(
        select(LabResult).where(LabResult.animal_id == animal.id)
        .order_by(func.coalesce(LabResult.resulted_on, LabResult.sampled_on).desc(), LabResult.id.desc())
        .limit(limit)
    ).scalars()
    entries = []
    for lab in rows:
        entries.append(TimelineEntry(at=_on_day(lab.sampled_on, tz), kind="lab", extra={"date_only": True},
                                     title=str(_l("Sample taken: %(test)s", test=lab.test))))
        if lab.interpretation and lab.resulted_on:
            entries.append(TimelineEntry(
                at=_on_day(lab.resulted_on, tz), kind="lab", detail=lab.result, extra={"date_only": True},
                title=str(_l("Result: %(test)s %(interpretation)s", test=lab.test,
                             interpretation=INTERPRETATION_LABELS.get(lab.interpretation, lab.interpretation)))))
    return entries


@timeline_source
def _quarantine_clearance(animal: Animal, _limit: int) -> list[TimelineEntry]:
    if animal.quarantine_cleared_on is None:
        return []
    vet = db.session.get(User, animal.quarantine_cleared_by_id) if animal.quarantine_cleared_by_id else None
    return [TimelineEntry(at=_on_day(animal.quarantine_cleared_on, _zone(animal)), kind="quarantine",
                          title=str(_l("Quarantine cleared")), detail=animal.quarantine_notes,
                          actor=vet.name if vet else "", extra={"date_only": True})]


@timeline_source
def _deaths_on_timeline(animal: Animal, limit: int) -> list[TimelineEntry]:
    rows = db.session.execute(
        select(Outcome).options(joinedload(Outcome.recorded_by), joinedload(Outcome.authorised_by))
        .where(Outcome.animal_id == animal.id, Outcome.kind.in_(DEATHS))
        .order_by(Outcome.occurred_at.desc(), Outcome.id.desc()).limit(limit)
    ).scalars()
    entries = []
    for outcome in rows:
        if outcome.kind == OutcomeKind.DIED:
            title = _ln("Died: %(num)d animal", "Died: %(num)d animals", outcome.count) if animal.is_lot else _l("Died")
            why, who = outcome.cause, outcome.recorded_by
        else:
            title = (_ln("Euthanised: %(num)d animal", "Euthanised: %(num)d animals", outcome.count) if animal.is_lot
                     else _l("Euthanised"))
            why, who = outcome.reason, outcome.authorised_by or outcome.recorded_by
        detail = [why] if why else []
        if outcome.necropsy_findings:
            detail.append(str(_l("Necropsy: %(findings)s", findings=_short(outcome.necropsy_findings, 300))))
        entries.append(TimelineEntry(at=outcome.occurred_at, kind="outcome", title=str(title),
                                     detail=" · ".join(detail), actor=who.name if who else ""))
    return entries
