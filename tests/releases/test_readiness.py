"""Release readiness computed from the records (app.releases.readiness), criterion by criterion.

Every automatic criterion met and unmet, manual criteria not assessed, failed, passed
and expired, a species' criterion replacing its class's, a lifetime resident never
ready, and the set-based read: as many queries for 30 animals as for one.
"""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from app.animals.models import Releasability
from app.care.models import CareLog, CareTask
from app.common.db import utcnow
from app.releases.models import AutoKey, CriterionKind
from app.releases.readiness import criteria_for, readiness, readiness_of
from app.releases.services import save_criterion
from app.vet.models import LabResult, Problem
from tests import factories
from tests.releases.conftest import MACAQUE_MANUAL, assess, weigh


def _unmet(animal) -> dict[str, str]:
    return {u.key: u.reason for u in readiness(animal, utcnow()).unmet}


def _problem(db, animal, status="active"):
    db.session.add(Problem(animal_id=animal.id, facility_id=animal.facility_id, diagnosis="Wound, left hand",
                           status=status))
    db.session.flush()


def _dose(db, animal, days_ago, given="given"):
    db.session.add(CareLog(client_id=str(uuid.uuid4()), facility_id=animal.facility_id, animal_id=animal.id,
                           kind="medicate", given=given, done_at=utcnow() - timedelta(days=days_ago)))
    db.session.flush()


def _lab(db, animal, test, interpretation, days_ago=10):
    db.session.add(LabResult(animal_id=animal.id, facility_id=animal.facility_id, test=test,
                             sampled_on=(utcnow() - timedelta(days=days_ago)).date(),
                             interpretation=interpretation,
                             resulted_on=utcnow().date() if interpretation else None))
    db.session.flush()


def _criterion(**values):
    return save_criterion(None, values)


def test_the_ready_macaque_meets_its_whole_checklist(ready_macaque):
    state = readiness(ready_macaque, utcnow())
    assert state.ready and state.unmet == []
    assert state.assessed
    keys = {c.key for c in state.criteria}
    assert keys == {*(str(k) for k in (AutoKey.QUARANTINE_CLEARED, AutoKey.NO_ACTIVE_PROBLEMS,
                                       AutoKey.NO_RECENT_MEDICATION, AutoKey.NO_EVIDENCE_HOLD, AutoKey.MIN_WEIGHT)),
                    *MACAQUE_MANUAL}


# --- automatic criteria --------------------------------------------------------------------

def test_quarantine_not_cleared_is_unmet(db, ready_macaque):
    ready_macaque.quarantine_cleared_on = None
    db.session.flush()
    assert _unmet(ready_macaque) == {"quarantine_cleared": "Quarantine not cleared by a vet."}


def test_an_active_problem_is_unmet_and_a_resolved_one_is_met(db, ready_macaque):
    _problem(db, ready_macaque, status="resolved")
    assert _unmet(ready_macaque) == {}
    _problem(db, ready_macaque)
    _problem(db, ready_macaque)
    assert _unmet(ready_macaque) == {"no_active_problems": "2 active problems on the problem list."}


@pytest.mark.parametrize(("days_ago", "met"), [(3, False), (13, False), (20, True)])
def test_a_dose_given_within_the_days_is_unmet(db, ready_macaque, days_ago, met):
    _dose(db, ready_macaque, days_ago)
    unmet = _unmet(ready_macaque)
    if met:
        assert unmet == {}
    else:
        assert set(unmet) == {"no_recent_medication"}
        assert unmet["no_recent_medication"].startswith(f"Last medicated {days_ago} days ago; 14 days")


def test_a_dose_refused_is_not_medication_given(db, ready_macaque):
    _dose(db, ready_macaque, 2, given="refused")
    assert _unmet(ready_macaque) == {}


def test_an_open_medication_task_is_a_course_still_running(db, ready_macaque):
    db.session.add(CareTask(facility_id=ready_macaque.facility_id, animal_id=ready_macaque.id, kind="medicate",
                            due_at=utcnow() + timedelta(days=2)))
    db.session.flush()
    assert _unmet(ready_macaque) == {"no_recent_medication": "A course of medication is still running."}


def test_min_weight_by_body_condition_of_the_class(db, ready_macaque):
    weigh(ready_macaque, 5300, bcs=4, at=utcnow() - timedelta(hours=2))  # the latest weighing counts
    assert set(_unmet(ready_macaque)) == {"min_weight"}
    weigh(ready_macaque, 5300, bcs=5, at=utcnow() - timedelta(hours=1))
    assert _unmet(ready_macaque) == {}


@pytest.mark.parametrize(("grams", "bcs", "met"), [
    (4000, 4, True),  # heavy enough
    (2000, 6, True),  # fit enough
    (2000, 4, False),
    (2000, None, False),
])
def test_min_weight_in_grams_or_body_condition(db, ready_macaque, grams, bcs, met):
    _criterion(species_id=ready_macaque.species_id, kind="auto", key="min_weight", min_weight_g=3000, min_bcs=6)
    weigh(ready_macaque, grams, bcs=bcs, at=utcnow() - timedelta(minutes=30))
    unmet = _unmet(ready_macaque)
    if met:
        assert unmet == {}
    else:
        assert set(unmet) == {"min_weight"}
        assert "at least 3000 g or body condition 6 is needed" in unmet["min_weight"]


def test_no_weight_at_all_is_unmet(db, facility, criteria):
    animal = factories.AnimalFactory(case=factories.CaseFactory(facility=facility))
    assert _unmet(animal)["min_weight"] == "No weight recorded."


@pytest.mark.parametrize(("results", "reason"), [
    ([], "Tuberculin test: no result"),
    ([None], "Tuberculin test: pending"),
    (["positive"], "Tuberculin test: positive"),
    (["negative", None], None),  # a retest still pending leaves the negative result standing
    (["negative"], None),
    (["negative", "positive"], "Tuberculin test: positive"),
])
def test_lab_negative(db, ready_macaque, results, reason):
    """Results are matched to the criterion's tests whatever their case and spacing; the criterion's name is shown."""
    _criterion(taxon_class="mammal", kind="auto", key="lab_negative", tests=["Tuberculin  test"])
    for i, interpretation in enumerate(results):
        _lab(db, ready_macaque, "tuberculin test", interpretation, days_ago=20 - i)
    assert _unmet(ready_macaque) == ({"lab_negative": reason} if reason else {})


def test_lab_negative_names_every_test_short(db, ready_macaque):
    _criterion(taxon_class="mammal", kind="auto", key="lab_negative", tests=["tuberculin test", "herpes B serology"])
    _lab(db, ready_macaque, "Herpes B serology", "negative")
    assert _unmet(ready_macaque) == {"lab_negative": "tuberculin test: no result"}


def test_an_evidence_hold_is_unmet(db, ready_macaque):
    ready_macaque.case.evidence_hold = True
    db.session.flush()
    unmet = _unmet(ready_macaque)
    assert set(unmet) == {"no_evidence_hold"}
    assert ready_macaque.case.reference in unmet["no_evidence_hold"]


def test_an_evidence_hold_blocks_even_without_the_criterion(db, facility, criteria):
    """A fish has no checklist at all; a mammal's hold criterion switched off: the hold still blocks."""
    fish = factories.AnimalFactory(case=factories.CaseFactory(facility=facility, evidence_hold=True),
                                   species=factories.SpeciesFactory(taxon_class="fish"))
    state = readiness(fish, utcnow())
    assert state.criteria == [] and not state.ready
    assert [u.key for u in state.unmet] == ["checklist", "no_evidence_hold"]


def test_a_hold_criterion_switched_off_still_blocks(db, ready_macaque):
    hold = next(c for c in criteria_for({ready_macaque.species_id})[ready_macaque.species_id]
                if c.key == AutoKey.NO_EVIDENCE_HOLD)
    save_criterion(hold, {"is_active": False})
    assert "no_evidence_hold" not in {c.key for c in readiness(ready_macaque, utcnow()).criteria}
    ready_macaque.case.evidence_hold = True
    db.session.flush()
    assert set(_unmet(ready_macaque)) == {"no_evidence_hold"}


# --- manual criteria -----------------------------------------------------------------------

def test_manual_criteria_not_assessed(db, facility, criteria):
    animal = factories.AnimalFactory(case=factories.CaseFactory(facility=facility),
                                     quarantine_cleared_on=utcnow().date())
    weigh(animal, 5000, bcs=5)
    state = readiness(animal, utcnow())
    assert not state.assessed
    assert {u.key: u.reason for u in state.unmet} == {
        "forages_natural_food": "Not assessed yet: Finds and eats natural food.",
        "avoids_humans": "Not assessed yet: Avoids people (flees or hides).",
        "climbs_well": "Not assessed yet: Climbs and moves normally.",
    }


def test_the_latest_assessment_counts_a_fail_is_unmet(db, ready_macaque):
    assess(ready_macaque, "avoids_humans", "fail", at=utcnow() - timedelta(minutes=30))
    unmet = _unmet(ready_macaque)
    assert set(unmet) == {"avoids_humans"}
    assert unmet["avoids_humans"].startswith("Failed on ")
    assess(ready_macaque, "avoids_humans", "pass", at=utcnow() - timedelta(minutes=10))
    assert _unmet(ready_macaque) == {}


def test_an_expired_pass_is_unmet(db, facility, ready_macaque):
    animal = factories.AnimalFactory(case=factories.CaseFactory(facility=facility), species=ready_macaque.species,
                                     quarantine_cleared_on=utcnow().date())
    weigh(animal, 5000, bcs=5)
    for key in MACAQUE_MANUAL:
        assess(animal, key, at=utcnow() - timedelta(days=40) if key == "climbs_well" else None, expires_days=30)
    unmet = _unmet(animal)
    assert set(unmet) == {"climbs_well"}
    expired_on = (utcnow() - timedelta(days=10)).date().isoformat()
    assert unmet["climbs_well"] == f"Assessment expired on {expired_on}: Climbs and moves normally."
    assess(animal, "climbs_well", at=utcnow() - timedelta(minutes=5))  # assessed again: a newer pass counts
    assert _unmet(animal) == {}


def test_a_species_criterion_replaces_its_class_criterion_of_the_same_key(db, ready_macaque):
    _criterion(species_id=ready_macaque.species_id, kind="manual", key="forages_natural_food",
               label="Cracks nuts and forages on the forest floor", expires_days=10)
    checklist = criteria_for({ready_macaque.species_id})[ready_macaque.species_id]
    foraging = [c for c in checklist if c.key == "forages_natural_food"]
    assert len(foraging) == 1 and foraging[0].species_id == ready_macaque.species_id
    assert {"avoids_humans", "climbs_well", "quarantine_cleared"} <= {c.key for c in checklist}  # the class's others
    # Another mammal keeps the class's criterion.
    other = factories.SpeciesFactory(taxon_class="mammal")
    assert next(c for c in criteria_for({other.id})[other.id] if c.key == "forages_natural_food").species_id is None
    # The label of the species' criterion is the one that explains the unmet item.
    animal = factories.AnimalFactory(case=ready_macaque.case, species=ready_macaque.species,
                                     quarantine_cleared_on=utcnow().date())
    weigh(animal, 5000, bcs=5)
    assert _unmet(animal)["forages_natural_food"] == \
        "Not assessed yet: Cracks nuts and forages on the forest floor."


def test_a_species_override_with_other_parameters(db, ready_macaque):
    _criterion(species_id=ready_macaque.species_id, kind="auto", key="no_recent_medication", days=30)
    _dose(db, ready_macaque, 20)
    assert set(_unmet(ready_macaque)) == {"no_recent_medication"}


# --- releasability and the set-based read --------------------------------------------------

def test_a_lifetime_resident_is_never_ready(db, ready_macaque):
    ready_macaque.releasability = Releasability.NON_RELEASABLE
    ready_macaque.releasability_reason = "Blind in both eyes"
    db.session.flush()
    state = readiness(ready_macaque, utcnow())
    assert not state.ready
    assert [(u.key, u.reason) for u in state.unmet] == [("releasability", "Non-releasable: Blind in both eyes")]


def test_turtles_a_lot_meet_the_reptile_checklist(turtles):
    state = readiness(turtles, utcnow())
    assert state.ready
    assert {c.key for c in state.criteria if c.kind == CriterionKind.MANUAL} == {"feeds_unassisted"}


def _herd(db, facility, species, n):
    animals = []
    for i in range(n):
        animal = factories.AnimalFactory(case=factories.CaseFactory(facility=facility), species=species,
                                         quarantine_cleared_on=utcnow().date() if i % 2 else None)
        weigh(animal, 4000 + i, bcs=4 + i % 3)
        for key in MACAQUE_MANUAL[: i % 4]:
            assess(animal, key, "pass" if i % 3 else "fail")
        if i % 5 == 0:
            _problem(db, animal)
            _dose(db, animal, i % 20)
            _lab(db, animal, "tuberculin test", "negative" if i % 2 else None)
        animals.append(animal)
    return animals


def test_readiness_of_one_or_thirty_animals_costs_the_same_queries(db, facility, criteria, count_queries):
    species = factories.SpeciesFactory(taxon_class="mammal")
    _criterion(taxon_class="mammal", kind="auto", key="lab_negative", tests=["tuberculin test"])
    _criterion(species_id=species.id, kind="manual", key="avoids_humans", label="Flees people", expires_days=20)
    one = _herd(db, facility, species, 1)
    many = _herd(db, facility, species, 30)
    with count_queries() as single:
        states = readiness_of(one, utcnow())
    assert len(states) == 1
    with count_queries() as thirty:
        states = readiness_of(many, utcnow())
    assert len(states) == 30
    assert single.count == thirty.count, f"{single}\n---\n{thirty}"
    assert thirty.count <= 8, thirty


def test_readiness_of_nothing_reads_nothing(db, count_queries):
    with count_queries() as counter:
        assert readiness_of([], utcnow()) == {}
    assert counter.count == 0


def test_min_weight_of_a_species_in_grams_only(db, ready_macaque):
    _criterion(species_id=ready_macaque.species_id, kind="auto", key="min_weight", min_weight_g=Decimal("5200.0"))
    assert _unmet(ready_macaque) == {}  # 5200 g weighed: exactly enough
    weigh(ready_macaque, "5199.9", bcs=9, at=utcnow() - timedelta(minutes=1))
    assert set(_unmet(ready_macaque)) == {"min_weight"}  # body condition does not count for this species


def test_a_part_split_off_a_lot_keeps_the_lots_assessments(turtles, signed_in):
    from app.animals.services import split_animal
    from app.common.db import utcnow

    signed_in("coordinator")
    part = split_animal(turtles, quantity=10, enclosure=None, user=None)
    assert readiness(part, utcnow()).ready, readiness(part, utcnow()).unmet


def test_a_species_without_a_checklist_is_never_ready_by_default(db, facility):
    fish = factories.SpeciesFactory(taxon_class="fish", common_name_en="Asian arowana")
    animal = factories.AnimalFactory(case=factories.CaseFactory(facility=facility), species=fish,
                                     quarantine_cleared_on=utcnow().date())
    state = readiness(animal, utcnow())
    assert not state.ready and [u.key for u in state.unmet] == ["checklist"]
