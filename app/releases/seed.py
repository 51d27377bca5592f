"""Default release checklists for mammals, birds and reptiles: `flask seed release-criteria` and the demo.

Sensible starting points a centre's coordinators then adjust per species: quarantine
cleared, nothing on the problem list, two weeks without medication, a body condition
of 5 of 9 (4 for reptiles, whose scores run lower), no evidence hold, and the
behaviours a keeper or vet must have seen, each good for 30 days.
"""

from sqlalchemy import select

from app.extensions import db
from app.releases.models import AutoKey, CriterionKind, ReleaseCriterion

_AUTO = [
    {"key": AutoKey.QUARANTINE_CLEARED},
    {"key": AutoKey.NO_ACTIVE_PROBLEMS},
    {"key": AutoKey.NO_RECENT_MEDICATION, "days": 14},
    {"key": AutoKey.NO_EVIDENCE_HOLD},
]
DEFAULTS = {
    "mammal": [
        *_AUTO,
        {"key": AutoKey.MIN_WEIGHT, "min_bcs": 5},
        {"key": "forages_natural_food", "label": "Finds and eats natural food", "expires_days": 30},
        {"key": "avoids_humans", "label": "Avoids people (flees or hides)", "expires_days": 30},
        {"key": "climbs_well", "label": "Climbs and moves normally", "expires_days": 30},
    ],
    "bird": [
        *_AUTO,
        {"key": AutoKey.MIN_WEIGHT, "min_bcs": 5},
        {"key": "flies_well", "label": "Sustained flight, lands with control", "expires_days": 30},
        {"key": "forages_natural_food", "label": "Finds and eats natural food", "expires_days": 30},
        {"key": "avoids_humans", "label": "Avoids people (flees or hides)", "expires_days": 30},
    ],
    "reptile": [
        *_AUTO,
        {"key": AutoKey.MIN_WEIGHT, "min_bcs": 4},
        {"key": "feeds_unassisted", "label": "Feeds on its own", "expires_days": 30},
    ],
}


def seed_release_criteria() -> int:
    """Add the default criteria a class does not have yet (by key); returns how many were added. Flushes."""
    have = set(db.session.execute(
        select(ReleaseCriterion.taxon_class, ReleaseCriterion.key).where(ReleaseCriterion.species_id.is_(None))).all())
    added = []
    for taxon_class, criteria in DEFAULTS.items():
        for values in criteria:
            if (taxon_class, str(values["key"])) in have:
                continue
            kind = CriterionKind.AUTO if values["key"] in set(AutoKey) else CriterionKind.MANUAL
            added.append(ReleaseCriterion(taxon_class=taxon_class, kind=kind, tests=[], is_active=True,
                                          **{**values, "key": str(values["key"])}))
    db.session.add_all(added)
    db.session.flush()
    return len(added)
