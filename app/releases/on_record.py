"""What releases add to an animal's record: the "Release readiness" panel, and assessments, outcomes and
transfers on its timeline.

The panel is read with a fixed number of queries whatever the animal's history: the
released outcomes, readiness's set-based reads (app.releases.readiness, one per kind
of fact), and the latest assessment of each manual criterion with its assessor (a
window function, not one query per criterion).
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app.animals.models import Animal, AnimalStatus, Outcome, OutcomeKind
from app.animals.panels import Panel, record_panel
from app.animals.timeline import TimelineEntry, timeline_source
from app.auth.models import Facility, User
from app.common.db import utcnow
from app.extensions import db
from app.releases.forms import labels, plain
from app.releases.models import (
    Assessment,
    AutoKey,
    CriterionKind,
    PlannedAnimal,
    ReleaseCriterion,
    ReleasePlan,
    ReleaseSite,
    Transfer,
)
from app.releases.readiness import readiness

LEAVING = (OutcomeKind.RELEASED, OutcomeKind.TRANSFERRED, OutcomeKind.ESCAPED)
# How a result reads in a sentence ("Assessed forages_natural_food: pass").
RESULT_WORDS = {"pass": _l("pass"), "fail": _l("fail")}


@dataclass(frozen=True)
class ChecklistRow:
    """One criterion of the animal's checklist: met or not (and why), with its last assessment if manual."""

    criterion: ReleaseCriterion
    met: bool
    reason: str = ""
    last: Assessment | None = None
    assessor: str = ""

    @property
    def manual(self) -> bool:
        return self.criterion.kind == CriterionKind.MANUAL


def parameters(criterion: ReleaseCriterion) -> str:
    """What an automatic criterion asks, in a few words ("14 days", "5000 g or body condition 5")."""
    parts = []
    if criterion.key == AutoKey.NO_RECENT_MEDICATION and criterion.days is not None:
        parts.append(str(_ln("%(num)d day", "%(num)d days", criterion.days)))
    if criterion.key == AutoKey.MIN_WEIGHT:
        wanted = []
        if criterion.min_weight_g is not None:
            wanted.append(f"{plain(criterion.min_weight_g)} g")
        if criterion.min_bcs is not None:
            wanted.append(str(_l("body condition %(bcs)d", bcs=criterion.min_bcs)))
        parts.append(str(_l(" or ")).join(wanted))
    if criterion.key == AutoKey.LAB_NEGATIVE and criterion.tests:
        parts.append(", ".join(criterion.tests))
    return " · ".join(p for p in parts if p)


def latest_assessments(animal_id: int) -> dict[str, tuple[Assessment, str]]:
    """The newest assessment of each criterion key with its assessor's name (one query)."""
    ranked = (select(Assessment.id, func.row_number().over(
        partition_by=Assessment.criterion_key,
        order_by=(Assessment.assessed_at.desc(), Assessment.id.desc())).label("n"))
        .where(Assessment.animal_id == animal_id).subquery())
    rows = db.session.execute(
        select(Assessment, User.name).join(ranked, (ranked.c.id == Assessment.id) & (ranked.c.n == 1))
        .outerjoin(User, Assessment.assessed_by_id == User.id)
    ).all()
    return {assessment.criterion_key: (assessment, name or "") for assessment, name in rows}


def release_record(animal: Animal) -> dict:
    """Everything the readiness panel shows, in a fixed number of queries."""
    released = list(db.session.execute(
        select(Outcome).where(Outcome.animal_id == animal.id, Outcome.kind == OutcomeKind.RELEASED)
        .order_by(Outcome.occurred_at.desc(), Outcome.id.desc())
    ).scalars())
    context = {"animal": animal, "in_care": animal.status == AnimalStatus.IN_CARE, "released": released,
               "state": None, "rows": [], "other_unmet": [], "parameters": parameters, **labels()}
    if not context["in_care"]:
        return context
    state = readiness(animal, utcnow())
    reasons = {u.key: u.reason for u in state.unmet}
    latest = latest_assessments(animal.id) if any(c.kind == CriterionKind.MANUAL for c in state.criteria) else {}
    rows = []
    for criterion in state.criteria:
        last, assessor = latest.get(criterion.key, (None, "")) if criterion.kind == CriterionKind.MANUAL \
            else (None, "")
        rows.append(ChecklistRow(criterion, criterion.key not in reasons, reasons.get(criterion.key, ""), last,
                                 assessor))
    keys = {c.key for c in state.criteria}
    context.update(state=state, rows=rows, other_unmet=[u for u in state.unmet if u.key not in keys])
    return context


@record_panel(order=30)
def _release_panels(animal: Animal) -> list[Panel]:
    return [Panel("releases/_readiness.html", release_record(animal), place="side")]


# --- the timeline ------------------------------------------------------------------------

@timeline_source
def _assessments(animal: Animal, limit: int) -> list[TimelineEntry]:
    rows = db.session.execute(
        select(Assessment, User.name).outerjoin(User, Assessment.assessed_by_id == User.id)
        .where(Assessment.animal_id == animal.id)
        .order_by(Assessment.assessed_at.desc(), Assessment.id.desc()).limit(limit)
    ).all()
    return [TimelineEntry(at=a.assessed_at, kind="assessment", detail=a.notes, actor=name or "",
                          title=str(_l("Assessed %(key)s: %(result)s", key=a.criterion_key,
                                       result=RESULT_WORDS.get(a.result, a.result))))
            for a, name in rows]


def _outcome_title(outcome: Outcome, site: str | None, lot: bool) -> str:
    if outcome.kind == OutcomeKind.RELEASED:
        if lot:
            title = (_ln("Released at %(site)s: %(num)d animal", "Released at %(site)s: %(num)d animals",
                         outcome.count, site=site) if site
                     else _ln("Released: %(num)d animal", "Released: %(num)d animals", outcome.count))
        else:
            title = _l("Released at %(site)s", site=site) if site else _l("Released")
    elif outcome.kind == OutcomeKind.TRANSFERRED:
        where = ", ".join(x for x in (outcome.institution, outcome.country) if x) or "—"
        title = (_ln("Transferred out to %(where)s: %(num)d animal", "Transferred out to %(where)s: %(num)d animals",
                     outcome.count, where=where) if lot else _l("Transferred out to %(where)s", where=where))
    else:
        title = _ln("Escaped: %(num)d animal", "Escaped: %(num)d animals", outcome.count) if lot else _l("Escaped")
    return str(title)


@timeline_source
def _leaving(animal: Animal, limit: int) -> list[TimelineEntry]:
    """Released (at the plan's site), transferred out of the network, escaped; deaths are the vet's."""
    rows = db.session.execute(
        select(Outcome, ReleaseSite.name, User.name)
        .outerjoin(PlannedAnimal, PlannedAnimal.outcome_id == Outcome.id)
        .outerjoin(ReleasePlan, PlannedAnimal.plan_id == ReleasePlan.id)
        .outerjoin(ReleaseSite, ReleasePlan.site_id == ReleaseSite.id)
        .outerjoin(User, Outcome.recorded_by_id == User.id)
        .where(Outcome.animal_id == animal.id, Outcome.kind.in_(LEAVING))
        .order_by(Outcome.occurred_at.desc(), Outcome.id.desc()).limit(limit)
    ).all()
    entries = []
    for outcome, site, actor in rows:
        detail = []
        if outcome.kind == OutcomeKind.TRANSFERRED and outcome.permit_numbers:
            detail.append(str(_l("Permits: %(numbers)s", numbers=outcome.permit_numbers)))
        if outcome.notes:
            detail.append(outcome.notes)
        entries.append(TimelineEntry(at=outcome.occurred_at, kind="outcome", detail=" · ".join(detail),
                                     title=_outcome_title(outcome, site, animal.is_lot), actor=actor or ""))
    return entries


@timeline_source
def _transfers(animal: Animal, limit: int) -> list[TimelineEntry]:
    source, target = aliased(Facility), aliased(Facility)
    rows = db.session.execute(
        select(Transfer, source.code, target.code, User.name)
        .join(source, Transfer.from_facility_id == source.id).join(target, Transfer.to_facility_id == target.id)
        .outerjoin(User, Transfer.recorded_by_id == User.id)
        .where(Transfer.animal_id == animal.id)
        .order_by(Transfer.transferred_at.desc(), Transfer.id.desc()).limit(limit)
    ).all()
    return [TimelineEntry(at=t.transferred_at, kind="transfer", detail=t.reason, actor=actor or "",
                          title=str(_l("Transferred from %(source)s to %(target)s", source=a, target=b)))
            for t, a, b, actor in rows]
