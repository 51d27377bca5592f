"""Default quarantine tests: what a rescue centre usually requires before an animal leaves quarantine.

Loaded by `flask seed quarantine-tests` and the demo; idempotent. Vets change them on
the quarantine tests page. Primates need tuberculosis and herpes B screening (both
zoonoses that matter to staff); psittacine and other birds are screened for
Chlamydia psittaci and avian influenza; every class gets a faecal parasitology.
"""

from sqlalchemy import select

from app.extensions import db
from app.reference.models import Species
from app.vet.models import QuarantineTest

CLASS_TESTS = {
    "mammal": ["Faecal parasitology"],
    "bird": ["Faecal parasitology", "Avian influenza PCR", "Chlamydia psittaci PCR"],
    "reptile": ["Faecal parasitology"],
    "amphibian": ["Chytrid (Bd) PCR"],
}
# Genera whose species need more than their class's tests.
GENUS_TESTS = {
    genus: ["Tuberculin test", "Herpes B serology"]
    for genus in ("Macaca", "Nycticebus", "Xanthonycticebus", "Hylobates", "Nomascus", "Trachypithecus", "Pygathrix")
}


def seed_quarantine_tests() -> int:
    """Add the default tests that are missing; returns how many were added. Flushes."""
    have = {(row.species_id, row.taxon_class, row.test.lower())
            for row in db.session.execute(select(QuarantineTest)).scalars()}
    wanted = [(None, taxon_class, test) for taxon_class, tests in CLASS_TESTS.items() for test in tests]
    # The catalogue is a few hundred rows: read the names and match the genus here.
    species = db.session.execute(select(Species.id, Species.scientific_name)).all()
    genera = [(species_id, name) for species_id, name in species if name.split()[0] in GENUS_TESTS]
    wanted += [(species_id, None, test) for species_id, name in genera for test in GENUS_TESTS[name.split()[0]]]
    added = [QuarantineTest(species_id=s, taxon_class=c, test=t) for s, c, t in wanted if (s, c, t.lower()) not in have]
    db.session.add_all(added)
    db.session.flush()
    return len(added)
