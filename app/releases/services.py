"""Release criteria, manual assessments and release sites. Each service flushes; callers commit."""

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select

from app.animals.models import Animal, AnimalStatus
from app.auth.models import User
from app.common.db import utcnow
from app.common.errors import RuleError
from app.extensions import db
from app.reference.models import Species, TaxonClass
from app.releases.models import (
    Assessment,
    AssessmentResult,
    AutoKey,
    CriterionKind,
    ReleaseCriterion,
    ReleaseSite,
)
from app.releases.readiness import criteria_for

Errors = dict[str, list[str]]


class ReleaseError(RuleError):
    """Release input refused by a rule; nothing was stored."""


class HoldError(ReleaseError):
    """An animal under an evidence hold: nothing overrides it (the API answers 409 naming the case)."""


def check_facility(user: User | None, facility_id: int, field: str = "animal") -> None:
    if user is not None and user.facility_ids is not None and facility_id not in user.facility_ids:
        raise ReleaseError({field: [_("This is at another facility.")]})


# --- criteria -------------------------------------------------------------------------------

CRITERION_FIELDS = ("species_id", "taxon_class", "key", "kind", "label", "days", "min_weight_g", "min_bcs", "tests",
                    "expires_days", "is_active")


def _whole(values: dict, key: str, errors: Errors, low: int, high: int) -> None:
    value = values.get(key)
    if value not in (None, "") and (not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high):
        errors[key] = [_("A whole number from %(low)d to %(high)d.", low=low, high=high)]
    elif value == "":
        values[key] = None


def save_criterion(criterion: ReleaseCriterion | None, values: dict) -> ReleaseCriterion:
    """Create or change a checklist item of a species or a taxon class."""
    values = {k: v for k, v in values.items() if k in CRITERION_FIELDS}
    merged = {k: getattr(criterion, k) for k in CRITERION_FIELDS} if criterion else {}
    merged.update(values)
    errors: Errors = {}
    species_id, taxon_class = merged.get("species_id"), merged.get("taxon_class") or None
    if (species_id is None) == (taxon_class is None):
        errors["species_id"] = [_("Choose a species or a taxon class, not both.")]
    elif taxon_class is not None and taxon_class not in set(TaxonClass):
        errors["taxon_class"] = [_("Choose a taxon class.")]
    elif species_id is not None and db.session.get(Species, species_id) is None:
        errors["species_id"] = [_("No such species.")]
    kind = merged.get("kind")
    key = "_".join(str(merged.get("key") or "").strip().lower().split())[:40]
    if kind not in set(CriterionKind):
        errors["kind"] = [_("Automatic or manual.")]
    elif kind == CriterionKind.AUTO and key not in set(AutoKey):
        errors["key"] = [_("An automatic criterion is one of: %(keys)s.", keys=", ".join(AutoKey))]
    elif kind == CriterionKind.MANUAL and (not key or key in set(AutoKey)):
        errors["key"] = [_("Give a short key for what is assessed, e.g. forages_natural_food.")]
    elif kind == CriterionKind.MANUAL and not str(merged.get("label") or "").strip():
        errors["label"] = [_("Say what the assessor checks.")]
    _whole(merged, "days", errors, 0, 365)
    _whole(merged, "min_bcs", errors, 1, 9)
    _whole(merged, "expires_days", errors, 1, 3650)
    grams = merged.get("min_weight_g")
    if grams not in (None, ""):
        try:
            merged["min_weight_g"] = Decimal(str(grams))
            if not Decimal(0) < merged["min_weight_g"] <= Decimal(1_000_000):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors["min_weight_g"] = [_("A weight in grams greater than 0.")]
    else:
        merged["min_weight_g"] = None
    tests = merged.get("tests") or []
    if not isinstance(tests, list) or not all(isinstance(t, str) for t in tests):
        errors["tests"] = [_("A list of test names.")]
    merged["tests"] = [" ".join(t.split()) for t in tests if isinstance(t, str) and t.strip()]
    if key == AutoKey.LAB_NEGATIVE and not merged["tests"] and "tests" not in errors:
        errors["tests"] = [_("Name the tests that must be negative.")]
    if key == AutoKey.MIN_WEIGHT and merged["min_weight_g"] is None and merged.get("min_bcs") is None \
            and "min_weight_g" not in errors:
        errors["min_weight_g"] = [_("Give a least weight, a least body condition, or both.")]
    if errors:
        raise ReleaseError(errors)
    duplicate = db.session.execute(select(ReleaseCriterion.id).where(
        ReleaseCriterion.key == key,
        ReleaseCriterion.species_id.is_(None) if species_id is None else ReleaseCriterion.species_id == species_id,
        ReleaseCriterion.taxon_class.is_(None) if taxon_class is None else ReleaseCriterion.taxon_class == taxon_class,
    )).scalar_one_or_none()
    if duplicate is not None and (criterion is None or duplicate != criterion.id):
        raise ReleaseError({"key": [_("This checklist already has a criterion %(key)s.", key=key)]})
    merged.update(key=key, taxon_class=taxon_class, label=str(merged.get("label") or "").strip()[:200])
    merged.setdefault("is_active", True)
    if criterion is None:
        criterion = ReleaseCriterion(**{k: merged.get(k) for k in CRITERION_FIELDS if k in merged})
        db.session.add(criterion)
    else:
        for k in CRITERION_FIELDS:
            if k in merged:
                setattr(criterion, k, merged[k])
    db.session.flush()
    return criterion


# --- assessments ----------------------------------------------------------------------------

def record_assessment(animal: Animal, *, user: User | None, criterion: str, result: str,
                      assessed_at: datetime | None = None, notes: str = "", now: datetime | None = None
                      ) -> Assessment:
    """A person's pass or fail on one of the animal's manual criteria; it expires after the criterion's days."""
    now = now or utcnow()
    check_facility(user, animal.facility_id)
    if animal.status != AnimalStatus.IN_CARE:
        raise ReleaseError({"animal": [_("%(animal)s has left care.", animal=animal.accession_number)]})
    manual = {c.key: c for c in criteria_for({animal.species_id}).get(animal.species_id, [])
              if c.kind == CriterionKind.MANUAL}
    errors: Errors = {}
    if criterion not in manual:
        errors["criterion"] = [_("Not one of this animal's manual criteria (%(keys)s).",
                                 keys=", ".join(manual) or "—")]
    if result not in set(AssessmentResult):
        errors["result"] = [_("Pass or fail.")]
    assessed_at = assessed_at or now
    if assessed_at.tzinfo is None:
        errors["assessed_at"] = [_("Give the time with its time zone.")]
    elif assessed_at > now + timedelta(minutes=5):
        errors["assessed_at"] = [_("This time is in the future.")]
    elif assessed_at < animal.admitted_at:
        errors["assessed_at"] = [_("This is before the animal was admitted.")]
    if errors:
        raise ReleaseError(errors)
    days = manual[criterion].expires_days
    assessment = Assessment(animal_id=animal.id, facility_id=animal.facility_id, criterion_key=criterion,
                            result=result, assessed_at=assessed_at, notes=(notes or "").strip(), recorded_at=now,
                            expires_at=assessed_at + timedelta(days=days) if days else None,
                            assessed_by_id=user.id if user else None)
    db.session.add(assessment)
    db.session.flush()
    return assessment


# --- sites ----------------------------------------------------------------------------------

def check_degrees(values: dict, errors: Errors) -> None:
    """The latitude and longitude given in values, as decimals to a micro-degree (empty: None), in place."""
    for field, bound in (("latitude", 90), ("longitude", 180)):
        if field not in values:
            continue
        if values[field] in (None, ""):
            values[field] = None
            continue
        try:
            number = Decimal(str(values[field]))
            if not -bound <= number <= bound:
                raise InvalidOperation
            values[field] = number.quantize(Decimal("0.000001"))
        except (InvalidOperation, ValueError):
            errors[field] = [_("Between -%(n)d and %(n)d degrees.", n=bound)]


SITE_FIELDS = ("name", "protected_area", "province", "latitude", "longitude", "habitat", "suitable_taxa", "notes",
               "is_active")


def save_site(site: ReleaseSite | None, values: dict) -> ReleaseSite:
    """Create or change a release site (names are unique)."""
    values = {k: v for k, v in values.items() if k in SITE_FIELDS}
    errors: Errors = {}
    if "name" in values or site is None:
        values["name"] = " ".join(str(values.get("name") or "").split())[:200]
        if not values["name"]:
            errors["name"] = [_("Give the site a name.")]
        else:
            other = db.session.execute(select(ReleaseSite.id).where(ReleaseSite.name == values["name"])
                                       ).scalar_one_or_none()
            if other is not None and (site is None or other != site.id):
                errors["name"] = [_("Another site has this name.")]
    check_degrees(values, errors)
    latitude = values.get("latitude", site.latitude if site else None)
    longitude = values.get("longitude", site.longitude if site else None)
    if (latitude is None) != (longitude is None) and not errors.keys() & {"latitude", "longitude"}:
        errors["latitude"] = [_("Give both coordinates, or neither.")]
    taxa = values.get("suitable_taxa")
    if taxa is not None and (not isinstance(taxa, list) or any(t not in set(TaxonClass) for t in taxa)):
        errors["suitable_taxa"] = [_("Choose taxon classes.")]
    if errors:
        raise ReleaseError(errors)
    for key in ("protected_area", "province", "habitat", "notes"):
        if key in values:
            values[key] = str(values[key] or "").strip()
    if site is None:
        values.setdefault("suitable_taxa", [])
        site = ReleaseSite(**values)
        db.session.add(site)
    else:
        for key, value in values.items():
            setattr(site, key, value)
    db.session.flush()
    return site
