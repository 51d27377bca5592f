"""Care listens to animals: new animals get their species' schedules, split-off lots their lot's
schedules and latest weight,
a record that left care has its open tasks cancelled,
and one transferred takes its schedules and open tasks to its new facility."""

from app.animals.models import AnimalStatus
from app.animals.signals import animal_outcome, animal_split, animal_transferred, animals_admitted
from app.care import records, services


def _admitted(_sender, *, animals, user, **_):
    services.apply_templates(animals, user=user)


def _split(_sender, *, parent, child, user, **_):
    services.copy_schedules(parent, child, user=user)
    records.copy_latest_weight(parent, child)


def _outcome(_sender, *, animal, outcome, **_):
    if animal.status != AnimalStatus.IN_CARE:
        services.cancel_open_tasks(animal.id)


def _transferred(_sender, *, animal, **_):
    services.follow_transfer(animal.id, animal.facility_id)


def connect_receivers() -> None:
    """Connect once per process (blinker ignores a receiver connected twice)."""
    animals_admitted.connect(_admitted)
    animal_split.connect(_split)
    animal_outcome.connect(_outcome)
    animal_transferred.connect(_transferred)
