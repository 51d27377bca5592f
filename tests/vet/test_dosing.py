"""Doses and frequencies: the arithmetic (mg/kg × weight, mg → ml), the dosing clock, and the weight a dose uses."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.care.models import CareSchedule, CareTask
from app.extensions import db
from app.vet import dosing
from app.vet.models import Prescription
from app.vet.prescriptions import prescribe
from app.vet.services import VetError, latest_weight, record_exam
from tests import factories
from tests.vet.conftest import NOW, weigh


@pytest.fixture
def config(app):
    with app.app_context():
        yield app.config


@pytest.fixture
def unweighed(facility, quarantine_enclosure):
    """A macaque admitted 40 days before NOW and never weighed."""
    return factories.AnimalFactory(case=factories.CaseFactory(facility=facility),
                                   enclosure_id=quarantine_enclosure.id, admitted_at=NOW - timedelta(days=40))


def _prescribe(animal, user, **values):
    values = {"drug": "Meloxicam", "dose_mg_per_kg": Decimal("0.2"), "concentration_mg_per_ml": Decimal("1.5"),
              "route": "PO", "frequency": "BID", "days": 5, **values}
    return prescribe(animal, user=user, now=NOW, **values)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- the arithmetic ----------------------------------------------------------------------

def test_the_dose_is_mg_per_kg_times_the_weight():
    assert dosing.dose_mg(Decimal("0.2"), Decimal("6000")) == Decimal("1.2")


def test_a_liquid_is_measured_in_ml():
    assert dosing.volume_ml(Decimal("1.2"), Decimal("1.5")) == Decimal("0.8")


@pytest.mark.parametrize("concentration", [None, Decimal("0")])
def test_without_a_concentration_there_is_no_volume(concentration):
    assert dosing.volume_ml(Decimal("1.2"), concentration) is None


def test_a_tiny_animal_keeps_its_dose_to_the_thousandth():
    mg = dosing.dose_mg(Decimal("0.2"), Decimal("30"))
    assert mg == Decimal("0.006") and mg > 0
    assert dosing.volume_ml(mg, Decimal("1.5")) == Decimal("0.004")


def test_doses_are_rounded_half_up_to_the_thousandth():
    assert dosing.dose_mg(Decimal("0.25"), Decimal("10")) == Decimal("0.003")  # 0.0025
    assert dosing.volume_ml(Decimal("1"), Decimal("3")) == Decimal("0.333")


@pytest.mark.parametrize(("value", "text"), [(Decimal("1.200"), "1.2"), (Decimal("4.000"), "4"),
                                             (Decimal("100.000"), "100"), (Decimal("0.006"), "0.006"),
                                             (None, "")])
def test_plain_drops_trailing_zeros_and_never_writes_an_exponent(value, text):
    assert dosing.plain(value) == text


# --- frequencies -------------------------------------------------------------------------

@pytest.mark.parametrize("frequency", ["SID", "BID", "TID", "QID"])
def test_named_frequencies_fall_at_the_standard_dosing_times(config, frequency):
    timing = dosing.parse_frequency(frequency)
    assert timing.times == config["DOSING_TIMES"][frequency] and timing.every_days is None


def test_q8h_is_three_doses_a_day_eight_hours_apart(config):
    timing = dosing.parse_frequency("q8h")
    assert timing.every_days is None
    assert timing.times == ["00:00", "08:00", "16:00"]
    assert timing.doses_for(1) == 3


def test_q12h_is_twice_a_day_from_the_first_dosing_time(config):
    timing = dosing.parse_frequency("q12h")
    assert (timing.times, timing.every_days) == (["08:00", "20:00"], None)


def test_q24h_is_once_a_day(config):
    timing = dosing.parse_frequency("q24h")
    assert (timing.times, timing.every_days) == (["08:00"], None)


def test_q48h_is_every_other_day(config):
    timing = dosing.parse_frequency("q48h")
    assert (timing.times, timing.every_days) == (["08:00"], 2)
    assert timing.doses_for(5) == 3  # days 1, 3 and 5
    assert timing.doses_for(4) == 2


@pytest.mark.parametrize("frequency", ["q5h", "q7h", "q36h", "q0h", "q00h", "q1000h", "BID\n", "bid", "BID ",
                                       "twice a day", "q h", "8h", "", None])
def test_frequencies_off_the_daily_clock_and_junk_are_refused(config, frequency):
    assert dosing.parse_frequency(frequency) is None


def test_bid_for_five_days_is_ten_doses(config):
    assert dosing.parse_frequency("BID").doses_for(5) == 10
    assert dosing.parse_frequency("QID").doses_for(3) == 12


# --- the weight a prescription uses ------------------------------------------------------

def test_a_prescription_works_out_its_dose_and_volume_from_the_weight(animal, signed_in):
    prescription, warnings = _prescribe(animal, signed_in())
    assert (prescription.dose_mg, prescription.volume_ml) == (Decimal("1.2"), Decimal("0.8"))
    assert prescription.weight_g_used == Decimal("6000") and prescription.weight_was_stale is False
    assert warnings == []


def test_a_tablet_has_no_volume(animal, signed_in):
    prescription, _ = _prescribe(animal, signed_in(), concentration_mg_per_ml=None)
    assert prescription.dose_mg == Decimal("1.2") and prescription.volume_ml is None


def test_a_tiny_animal_keeps_its_dose_and_a_volume_too_small_to_measure_warns(animal, signed_in):
    weigh(animal, 30, at=NOW - timedelta(hours=1))
    prescription, warnings = _prescribe(animal, signed_in())
    db.session.expire(prescription)  # read back what the database kept
    assert prescription.dose_mg == Decimal("0.006") and prescription.volume_ml == Decimal("0.004")
    assert len(warnings) == 1 and "0.01 ml" in warnings[0]


def test_a_dose_of_a_lot_is_per_animal(lot, signed_in):
    prescription, _ = _prescribe(lot, signed_in(), dose_mg_per_kg=Decimal("10"), concentration_mg_per_ml=None)
    assert prescription.weight_g_used == Decimal("400")
    assert prescription.dose_mg == Decimal("4")  # 10 mg/kg × 0.4 kg, not × 16 kg


def test_the_latest_weight_is_used(animal, signed_in):
    newer = weigh(animal, 5000, at=NOW - timedelta(hours=3))
    weigh(animal, 7000, at=NOW - timedelta(days=5))  # recorded after, measured before
    prescription, _ = _prescribe(animal, signed_in())
    assert prescription.weight_id == newer.id and prescription.dose_mg == Decimal("1")


def test_a_weight_from_an_exam_is_the_latest_weight(animal, signed_in):
    vet = signed_in()
    exam = record_exam(animal, user=vet, examined_at=NOW - timedelta(hours=1), weight_g=5400, now=NOW)
    assert latest_weight(animal.id).id == exam.weight_id
    prescription, _ = _prescribe(animal, vet)
    assert prescription.weight_id == exam.weight_id and prescription.dose_mg == Decimal("1.08")


def test_a_weight_older_than_fourteen_days_is_used_with_a_warning(unweighed, signed_in):
    weigh(unweighed, 6000, at=NOW - timedelta(days=20))
    prescription, warnings = _prescribe(unweighed, signed_in())
    assert prescription.id is not None and prescription.weight_was_stale is True
    assert prescription.dose_mg == Decimal("1.2")
    assert len(warnings) == 1 and "20 days" in warnings[0]


def test_a_weight_of_just_under_fourteen_days_is_not_stale(unweighed, signed_in):
    weigh(unweighed, 6000, at=NOW - timedelta(days=14) + timedelta(minutes=1))
    prescription, warnings = _prescribe(unweighed, signed_in())
    assert prescription.weight_was_stale is False and warnings == []


def test_without_a_weight_nothing_is_prescribed(unweighed, signed_in):
    vet = signed_in()
    with pytest.raises(VetError) as refused:
        _prescribe(unweighed, vet)
    assert set(refused.value.fields) == {"weight"}
    assert unweighed.accession_number in refused.value.fields["weight"][0]
    assert (_count(Prescription), _count(CareSchedule), _count(CareTask)) == (0, 0, 0)


def test_a_dose_that_would_round_to_nothing_is_refused(unweighed, signed_in):
    weigh(unweighed, 2, at=NOW - timedelta(hours=1))  # a hatchling: 0.2 mg/kg × 2 g = 0.0004 mg
    with pytest.raises(VetError) as refused:
        _prescribe(unweighed, signed_in())
    assert set(refused.value.fields) == {"dose_mg_per_kg"}
    assert (_count(Prescription), _count(CareSchedule), _count(CareTask)) == (0, 0, 0)
