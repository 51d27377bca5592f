"""Pages for animals: the list, the animal record with its timeline, edit, move, split."""

from app.animals.views import bp
from app.auth.permissions import require


@bp.get("/animals")
@require("animal.view")
def animal_list():
    return "todo"


@bp.get("/animals/<int:animal_id>")
@require("animal.view")
def animal_record(animal_id: int):
    return "todo"
