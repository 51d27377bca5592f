"""Sections other domains add to the animal record page, so that animals never imports them.

A domain registers a provider: a function (animal) returning the panels it shows
(a template and its context each), none or several from the same reads. Providers
run in the order they were given; each should read with a fixed number of queries.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from app.animals.models import Animal


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict = field(default_factory=dict)
    # "header": inside the record's header card; "top": under the header, full width; "side": the right-hand column
    place: str = "side"


Provider = Callable[[Animal], list[Panel]]
_providers: list[tuple[int, Provider]] = []


def record_panel(order: int) -> Callable[[Provider], Provider]:
    """Register a provider of panels of the animal record (lower order shows first)."""
    def register(provider: Provider) -> Provider:
        _providers.append((order, provider))
        _providers.sort(key=lambda item: item[0])
        return provider
    return register


def panels_for(animal: Animal) -> dict[str, list[Panel]]:
    """The panels to show on the animal's record, by place."""
    places: dict[str, list[Panel]] = {"header": [], "top": [], "side": []}
    for _order, provider in _providers:
        for panel in provider(animal):
            places.setdefault(panel.place, []).append(panel)
    return places
