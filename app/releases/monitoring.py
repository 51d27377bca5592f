"""Post-release monitoring: observations of released animals, and each plan's survival summary."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from app.animals.models import Animal, Outcome, OutcomeKind
from app.auth.models import Facility, User
from app.common.db import utcnow
from app.extensions import db
from app.releases.models import Observation, ObservationKind, PlannedAnimal, ReleasePlan
from app.releases.services import Errors, ReleaseError, check_degrees, check_facility


def _released_plan(animal: Animal) -> PlannedAnimal | None:
    """The planned row of the animal's latest completed release (plan and count), if any."""
    return db.session.execute(
        select(PlannedAnimal).join(Outcome, PlannedAnimal.outcome_id == Outcome.id)
        .where(PlannedAnimal.animal_id == animal.id, Outcome.kind == OutcomeKind.RELEASED)
        .order_by(Outcome.occurred_at.desc(), Outcome.id.desc()).limit(1)
    ).scalar_one_or_none()


def _before_release_day(observed_at: datetime, released: PlannedAnimal) -> bool:
    """The release is known by its day (its outcome's time is that day's noon or when it was recorded)."""
    plan = db.session.get(ReleasePlan, released.plan_id)
    zone = ZoneInfo(db.session.get(Facility, plan.facility_id).timezone)
    return observed_at.astimezone(zone).date() < plan.completed_on


def record_observation(animal: Animal, *, user: User | None, kind: str, observed_at: datetime | None,
                       count: int | None = 1, latitude=None, longitude=None, notes: str = "",
                       now: datetime | None = None) -> Observation:
    """A sighting, telemetry fix, animal found dead or recaptured, after its release."""
    now = now or utcnow()
    check_facility(user, animal.facility_id)
    released = _released_plan(animal)
    errors: Errors = {}
    if released is None:
        errors["animal"] = [_("%(animal)s has not been released: observations follow a release.",
                              animal=animal.accession_number)]
    if kind not in set(ObservationKind):
        errors["kind"] = [_("Sighting, telemetry, found dead or recaptured.")]
    if observed_at is None or observed_at.tzinfo is None:
        errors["observed_at"] = [_("Give the time with its time zone.")]
    elif observed_at > now + timedelta(minutes=5):
        errors["observed_at"] = [_("This time is in the future.")]
    elif released is not None and _before_release_day(observed_at, released):
        errors["observed_at"] = [_("This is before the day of the release.")]
    most = released.count if released else 1
    count = 1 if count is None else count
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= most:
        errors["count"] = [_("Between 1 and %(n)d animals.", n=most)]
    point = {"latitude": latitude, "longitude": longitude}
    check_degrees(point, errors)
    if not errors and (point["latitude"] is None) != (point["longitude"] is None):
        errors["latitude"] = [_("Give both coordinates, or neither.")]
    if errors:
        raise ReleaseError(errors)
    observation = Observation(animal_id=animal.id, plan_id=released.plan_id, kind=kind, observed_at=observed_at,
                              count=count, notes=(notes or "").strip(), recorded_at=now,
                              recorded_by_id=user.id if user else None, **point)
    db.session.add(observation)
    db.session.flush()
    return observation


@dataclass(frozen=True)
class Survival:
    """What monitoring says of a plan's animals: released, seen alive since, found dead, recaptured."""

    released: int
    seen_alive: int  # animals of released records with a sighting or telemetry fix (a lot counts its largest group)
    found_dead: int
    recaptured: int
    last_observed_at: datetime | None

    @property
    def unknown(self) -> int:
        return max(0, self.released - self.seen_alive - self.found_dead - self.recaptured)


def survival_summaries(plans: list[ReleasePlan]) -> dict[int, Survival]:
    """Each completed plan's survival summary, in two queries whatever the number of plans."""
    ids = [p.id for p in plans]
    if not ids:
        return {}
    released = dict(db.session.execute(
        select(PlannedAnimal.plan_id, func.sum(PlannedAnimal.count))
        .where(PlannedAnimal.plan_id.in_(ids), PlannedAnimal.outcome_id.is_not(None))
        .group_by(PlannedAnimal.plan_id)).all())
    alive = (ObservationKind.SIGHTING, ObservationKind.TELEMETRY)
    per_animal = (
        select(Observation.plan_id, Observation.animal_id,
               func.max(case((Observation.kind.in_(alive), Observation.count), else_=0)).label("alive"),
               func.sum(case((Observation.kind == ObservationKind.FOUND_DEAD, Observation.count), else_=0))
               .label("dead"),
               func.sum(case((Observation.kind == ObservationKind.RECAPTURED, Observation.count), else_=0))
               .label("recaptured"),
               func.max(Observation.observed_at).label("last"))
        .where(Observation.plan_id.in_(ids)).group_by(Observation.plan_id, Observation.animal_id).subquery()
    )
    seen = {row.plan_id: row for row in db.session.execute(
        select(per_animal.c.plan_id, func.sum(per_animal.c.alive).label("alive"),
               func.sum(per_animal.c.dead).label("dead"), func.sum(per_animal.c.recaptured).label("recaptured"),
               func.max(per_animal.c.last).label("last"))
        .group_by(per_animal.c.plan_id))}
    result = {}
    for plan_id in ids:
        row = seen.get(plan_id)
        result[plan_id] = Survival(released=int(released.get(plan_id) or 0),
                                   seen_alive=int(row.alive or 0) if row else 0,
                                   found_dead=int(row.dead or 0) if row else 0,
                                   recaptured=int(row.recaptured or 0) if row else 0,
                                   last_observed_at=row.last if row else None)
    return result
