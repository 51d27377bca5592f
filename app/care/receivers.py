"""Care listens to intake: new animals get their species' schedules, split-off lots their lot's."""

from app.animals.signals import animal_split, animals_admitted
from app.care import services


def _admitted(_sender, *, animals, user, **_):
    services.apply_templates(animals, user=user)


def _split(_sender, *, parent, child, user, **_):
    services.copy_schedules(parent, child, user=user)


def connect_receivers() -> None:
    """Connect once per process (blinker ignores a receiver connected twice)."""
    animals_admitted.connect(_admitted)
    animal_split.connect(_split)
