"""What releases add to the animal record: the buttons to transfer it, record its transfer out or escape,
and, once released, to record observations; and the observations made since its release.

Two queries at most, whatever the number of observations: whether the record has a
released outcome, and (only then) its latest observations with their total count.
Coordinates are in the context for the template to show only with restricted_fields.view.
"""

from sqlalchemy import exists, func, select

from app.animals.models import Animal, AnimalStatus, Outcome, OutcomeKind
from app.animals.panels import Panel, record_panel
from app.extensions import db
from app.releases.forms_transfers import OBSERVATION_KIND_LABELS
from app.releases.models import Observation

RECENT_OBSERVATIONS = 20


@record_panel(order=40)
def _record_actions(animal: Animal) -> list[Panel]:
    released = db.session.execute(select(exists().where(
        Outcome.animal_id == animal.id, Outcome.kind == OutcomeKind.RELEASED))).scalar()
    observations, total = [], 0
    if released:
        rows = db.session.execute(
            select(Observation, func.count().over()).where(Observation.animal_id == animal.id)
            .order_by(Observation.observed_at.desc(), Observation.id.desc()).limit(RECENT_OBSERVATIONS)).all()
        observations, total = [row[0] for row in rows], (rows[0][1] if rows else 0)
    return [Panel("releases/_record_actions.html", {
        "animal": animal, "in_care": animal.status == AnimalStatus.IN_CARE, "released": released,
        "observations": observations, "more": max(0, total - len(observations)),
        "kind_labels": OBSERVATION_KIND_LABELS,
    }, place="side")]
