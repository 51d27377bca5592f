"""Loads the species catalogue from data/species.csv, matching rows by scientific name."""

import csv
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.reference.models import Species

SPECIES_FILE = Path(__file__).parent / "data" / "species.csv"
_FIELDS = ("common_name_en", "common_name_km", "taxon_class", "iucn_status", "cites_appendix",
           "kh_category", "quarantine_days", "zoonosis_note")


def read_species_file(path: Path = SPECIES_FILE) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["quarantine_days"] = int(row["quarantine_days"])
        for key, value in row.items():
            if isinstance(value, str):
                row[key] = value.strip()
    return rows


def seed_species(path: Path = SPECIES_FILE) -> tuple[int, int]:
    """Insert new species and update changed ones; returns (created, updated). Flushes."""
    rows = read_species_file(path)
    existing = {s.scientific_name: s for s in db.session.execute(select(Species)).scalars()}
    created = updated = 0
    for row in rows:
        species = existing.get(row["scientific_name"])
        if species is None:
            db.session.add(Species(**row))
            created += 1
            continue
        changed = {k: row[k] for k in _FIELDS if getattr(species, k) != row[k]}
        if changed:
            for key, value in changed.items():
                setattr(species, key, value)
            updated += 1
    db.session.flush()
    return created, updated
