"""Dose arithmetic and dosing frequencies: pure functions, no database.

Doses are per animal (for a lot, per animal of the lot) from a weight in grams.
mg = mg/kg × kg; a liquid's volume is mg ÷ (mg/ml). Results keep three decimals:
a 30 g gecko on 0.2 mg/kg gets 0.006 mg, which must not round to nothing.
"""

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app

FREQUENCY = re.compile(r"^(SID|BID|TID|QID|q(\d{1,3})h)$")
THOUSANDTH = Decimal("0.001")


@dataclass(frozen=True)
class Timing:
    """When a frequency's doses fall: local times of day, every N days, and doses per day (may be < 1)."""

    times: list[str]
    every_days: int | None

    def doses_for(self, days: int) -> int:
        """How many doses a course of `days` days is."""
        if self.every_days:
            return -(-days // self.every_days)  # every other day for 5 days: days 1, 3, 5
        return days * len(self.times)


def parse_frequency(frequency: str) -> Timing | None:
    """SID/BID/TID/QID at the standard dosing times; q<N>h where N divides 24 or is a whole number of days.

    None when the frequency cannot be kept on a daily clock (q5h, q36h).
    """
    match = FREQUENCY.fullmatch(frequency or "")
    if match is None:
        return None
    standard = current_app.config["DOSING_TIMES"]
    if match.group(2) is None:
        return Timing(times=list(standard[frequency]), every_days=None)
    hours = int(match.group(2))
    first = int(standard["SID"][0][:2])
    if 1 <= hours <= 24 and 24 % hours == 0:
        return Timing(times=sorted(f"{(first + k * hours) % 24:02d}:00" for k in range(24 // hours)),
                      every_days=None)
    if hours % 24 == 0 and 24 <= hours <= 24 * 30:
        return Timing(times=[standard["SID"][0]], every_days=hours // 24)
    return None


def dose_mg(dose_mg_per_kg: Decimal, grams: Decimal) -> Decimal:
    """The dose in mg for an animal of `grams`."""
    return (Decimal(dose_mg_per_kg) * Decimal(grams) / 1000).quantize(THOUSANDTH, ROUND_HALF_UP)


def volume_ml(mg: Decimal, concentration_mg_per_ml: Decimal | None) -> Decimal | None:
    """The volume of a liquid that holds `mg`; None for a tablet or a drug without a concentration."""
    if not concentration_mg_per_ml:
        return None
    return (Decimal(mg) / Decimal(concentration_mg_per_ml)).quantize(THOUSANDTH, ROUND_HALF_UP)


def plain(value: Decimal | None) -> str:
    """A decimal without trailing zeros: 1.200 → "1.2", 4.000 → "4"."""
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    return text
