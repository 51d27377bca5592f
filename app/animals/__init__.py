"""Intake of seizures: cases, animals and lots, custody, evidence holds, housing, photos."""
