"""Release readiness, computed when read: each animal's checklist, met or not, and why.

For any number of animals at once in a fixed number of queries (one per kind of
fact: criteria, problems, medication, weights, lab results, holds, assessments), so
the planning page costs the same for 1 candidate as for 500. A species' criterion
replaces its taxon class's of the same key; the class's others still apply.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.animals.models import Animal, Case, Releasability
from app.care.models import CareKind, CareLog, CareTask, DoseResult, TaskStatus, Weight
from app.extensions import db
from app.reference.models import Species
from app.releases.models import Assessment, AssessmentResult, AutoKey, CriterionKind, ReleaseCriterion
from app.vet.models import LabResult, Problem, ProblemStatus


@dataclass(frozen=True)
class Unmet:
    key: str
    reason: str


@dataclass
class Readiness:
    """One animal record's readiness: what is unmet, and whether anyone has assessed it yet."""

    animal: Animal
    releasability: str
    unmet: list[Unmet] = field(default_factory=list)
    criteria: list[ReleaseCriterion] = field(default_factory=list)
    assessed: bool = False

    @property
    def ready(self) -> bool:
        return not self.unmet and self.releasability != Releasability.NON_RELEASABLE


def criteria_for(species_ids: set[int]) -> dict[int, list[ReleaseCriterion]]:
    """Each species' checklist: its own criteria and its class's other ones (one query)."""
    rows = db.session.execute(
        select(Species.id, ReleaseCriterion)
        .join(ReleaseCriterion, (ReleaseCriterion.species_id == Species.id)
              | (ReleaseCriterion.taxon_class == Species.taxon_class))
        .where(Species.id.in_(species_ids), ReleaseCriterion.is_active.is_(True))
        .order_by(ReleaseCriterion.kind, ReleaseCriterion.key)
    ).all()
    by_key: dict[int, dict[str, ReleaseCriterion]] = defaultdict(dict)
    for species_id, criterion in rows:
        current = by_key[species_id].get(criterion.key)
        if current is None or (criterion.species_id is not None and current.species_id is None):
            by_key[species_id][criterion.key] = criterion
    return {species_id: list(criteria.values()) for species_id, criteria in by_key.items()}


class _Facts:
    """What the records say about a set of animals, read once per kind of fact."""

    def __init__(self, ids: list[int], keys: set[str]):
        self.active_problems = self._active_problems(ids) if AutoKey.NO_ACTIVE_PROBLEMS in keys else {}
        medication = AutoKey.NO_RECENT_MEDICATION in keys
        self.last_dose = self._last_doses(ids) if medication else {}
        self.on_course = self._on_course(ids) if medication else set()
        self.weights = self._latest_weights(ids) if AutoKey.MIN_WEIGHT in keys else {}
        self.labs = self._lab_states(ids) if AutoKey.LAB_NEGATIVE in keys else {}
        self.held = self._held(ids)
        self.assessments = self._assessments(ids)

    @staticmethod
    def _active_problems(ids):
        return dict(db.session.execute(
            select(Problem.animal_id, func.count()).where(Problem.animal_id.in_(ids),
                                                          Problem.status == ProblemStatus.ACTIVE)
            .group_by(Problem.animal_id)).all())

    @staticmethod
    def _last_doses(ids):
        return dict(db.session.execute(
            select(CareLog.animal_id, func.max(CareLog.done_at))
            .where(CareLog.animal_id.in_(ids), CareLog.kind == CareKind.MEDICATE, CareLog.given == DoseResult.GIVEN)
            .group_by(CareLog.animal_id)).all())

    @staticmethod
    def _on_course(ids):
        return set(db.session.execute(
            select(CareTask.animal_id).where(CareTask.animal_id.in_(ids), CareTask.kind == CareKind.MEDICATE,
                                             CareTask.status == TaskStatus.OPEN).distinct()).scalars())

    @staticmethod
    def _latest_weights(ids):
        latest = (select(Weight.animal_id, func.max(Weight.measured_at).label("at"))
                  .where(Weight.animal_id.in_(ids)).group_by(Weight.animal_id).subquery())
        rows = db.session.execute(
            select(Weight).join(latest, (Weight.animal_id == latest.c.animal_id) & (Weight.measured_at == latest.c.at))
        ).scalars()
        return {w.animal_id: w for w in rows}

    @staticmethod
    def _lab_states(ids):
        states: dict[int, dict[str, str]] = defaultdict(dict)
        for animal_id, test, interpretation in db.session.execute(
            select(LabResult.animal_id, LabResult.test, LabResult.interpretation)
            .where(LabResult.animal_id.in_(ids)).order_by(LabResult.sampled_on, LabResult.id)
        ):
            key = " ".join(test.lower().split())
            if interpretation is not None or states[animal_id].get(key) in (None, "pending"):
                states[animal_id][key] = interpretation or "pending"
        return states

    @staticmethod
    def _held(ids):
        return dict(db.session.execute(
            select(Animal.id, Case.reference).join(Case, Animal.case_id == Case.id)
            .where(Animal.id.in_(ids), Case.evidence_hold.is_(True))).all())

    @staticmethod
    def _assessments(ids):
        latest: dict[int, dict[str, Assessment]] = defaultdict(dict)
        for assessment in db.session.execute(
            select(Assessment).where(Assessment.animal_id.in_(ids))
            .order_by(Assessment.assessed_at, Assessment.id)
        ).scalars():
            latest[assessment.animal_id][assessment.criterion_key] = assessment
        return latest


def _plain(value) -> str:
    return format(value.normalize(), "f") if value is not None else ""


def _auto(criterion: ReleaseCriterion, animal: Animal, facts: _Facts, now: datetime) -> str | None:
    """Why an automatic criterion is unmet, or None when it is met."""
    key = criterion.key
    if key == AutoKey.QUARANTINE_CLEARED:
        return None if animal.quarantine_cleared_on else _("Quarantine not cleared by a vet.")
    if key == AutoKey.NO_ACTIVE_PROBLEMS:
        n = facts.active_problems.get(animal.id, 0)
        return _("%(n)d active problems on the problem list.", n=n) if n else None
    if key == AutoKey.NO_RECENT_MEDICATION:
        if animal.id in facts.on_course:
            return _("A course of medication is still running.")
        last, days = facts.last_dose.get(animal.id), criterion.days or 0
        if last is not None and last > now - timedelta(days=days):
            return _("Last medicated %(ago)d days ago; %(days)d days without medication are needed.",
                     ago=(now - last).days, days=days)
        return None
    if key == AutoKey.MIN_WEIGHT:
        weight = facts.weights.get(animal.id)
        if weight is None:
            return _("No weight recorded.")
        heavy = criterion.min_weight_g is not None and weight.grams >= criterion.min_weight_g
        fit = criterion.min_bcs is not None and weight.bcs is not None and weight.bcs >= criterion.min_bcs
        if heavy or fit or (criterion.min_weight_g is None and criterion.min_bcs is None):
            return None
        wanted = [f"{_plain(criterion.min_weight_g)} g"] if criterion.min_weight_g is not None else []
        wanted += [_("body condition %(bcs)d", bcs=criterion.min_bcs)] if criterion.min_bcs is not None else []
        return _("Weighs %(grams)s g (body condition %(bcs)s); at least %(wanted)s is needed.",
                 grams=_plain(weight.grams), bcs=weight.bcs or "—", wanted=_(" or ").join(wanted))
    if key == AutoKey.LAB_NEGATIVE:
        states = facts.labs.get(animal.id, {})
        problems = []
        for test in criterion.tests or []:
            state = states.get(" ".join(test.lower().split()), "missing")
            if state != "negative":
                problems.append(_("%(test)s: %(state)s", test=test, state={
                    "missing": _("no result"), "pending": _("pending"), "positive": _("positive"),
                    "inconclusive": _("inconclusive")}[state]))
        return "; ".join(problems) or None
    if key == AutoKey.NO_EVIDENCE_HOLD:
        case = facts.held.get(animal.id)
        return _("Case %(case)s is under an evidence hold.", case=case) if case else None
    return _("Unknown automatic criterion %(key)s.", key=key)


def _manual(criterion: ReleaseCriterion, animal: Animal, facts: _Facts, now: datetime) -> str | None:
    assessment = facts.assessments.get(animal.id, {}).get(criterion.key)
    label = criterion.label or criterion.key
    if assessment is None:
        return _("Not assessed yet: %(label)s.", label=label)
    if assessment.result != AssessmentResult.PASS:
        return _("Failed on %(day)s: %(label)s.", day=assessment.assessed_at.date().isoformat(), label=label)
    if assessment.expires_at is not None and assessment.expires_at <= now:
        return _("Assessment expired on %(day)s: %(label)s.", day=assessment.expires_at.date().isoformat(),
                 label=label)
    return None


def readiness_of(animals: list[Animal], now: datetime) -> dict[int, Readiness]:
    """Each animal's readiness now, by animal id."""
    if not animals:
        return {}
    checklists = criteria_for({a.species_id for a in animals})
    keys = {c.key for criteria in checklists.values() for c in criteria if c.kind == CriterionKind.AUTO}
    facts = _Facts([a.id for a in animals], keys)
    result = {}
    for animal in animals:
        criteria = checklists.get(animal.species_id, [])
        readiness = Readiness(animal=animal, releasability=animal.releasability, criteria=criteria,
                              assessed=bool(facts.assessments.get(animal.id)))
        if not criteria:
            # Without a checklist nobody has said what "ready" means for this species: never ready by default.
            readiness.unmet.append(Unmet("checklist", _("No release checklist for this species or its class.")))
        for criterion in criteria:
            check = _auto if criterion.kind == CriterionKind.AUTO else _manual
            if (reason := check(criterion, animal, facts, now)) is not None:
                readiness.unmet.append(Unmet(criterion.key, reason))
        # An evidence hold is never just one criterion among others: it blocks whatever the checklist says.
        if animal.id in facts.held and not any(u.key == AutoKey.NO_EVIDENCE_HOLD for u in readiness.unmet):
            readiness.unmet.append(Unmet(AutoKey.NO_EVIDENCE_HOLD, _("Case %(case)s is under an evidence hold.",
                                                                      case=facts.held[animal.id])))
        if animal.releasability == Releasability.NON_RELEASABLE:
            readiness.unmet.insert(0, Unmet("releasability", _("Non-releasable: %(reason)s",
                                                               reason=animal.releasability_reason or "—")))
        result[animal.id] = readiness
    return result


def readiness(animal: Animal, now: datetime) -> Readiness:
    return readiness_of([animal], now)[animal.id]
