"""Housing pages: the census of enclosures with occupancy, who lives in one enclosure, chain of custody."""

from itertools import groupby

from flask import render_template

from app.animals import queries
from app.animals.custody import chain_of_custody as custody_entries
from app.animals.views import bp
from app.auth.permissions import can, require
from app.extensions import db
from app.reference.queries import enclosures_stmt, get_enclosure


@bp.get("/housing")
@require("enclosure.view")
def housing():
    """Every enclosure with how many animals live there, grouped by facility and section."""
    enclosures = db.session.execute(enclosures_stmt()).unique().scalars().all()
    counts = queries.occupancy([e.id for e in enclosures])
    groups = []
    for facility, by_facility in groupby(enclosures, key=lambda e: e.facility):
        sections = [(section, list(rows)) for section, rows in groupby(by_facility, key=lambda e: e.section)]
        groups.append((facility, sections))
    return render_template("animals/housing.html", groups=groups, counts=counts)


@bp.get("/housing/<int:enclosure_id>")
@require("enclosure.view")
def enclosure_animals(enclosure_id: int):
    """Who lives in one enclosure now, with its capacity; those allowed tick animals to move them together."""
    enclosure = get_enclosure(enclosure_id)
    occupants = queries.enclosure_occupants(enclosure.id)
    return render_template("animals/housing_enclosure.html", enclosure=enclosure, occupants=occupants,
                           total=sum(a.quantity for a in occupants))


@bp.get("/cases/<int:case_id>/custody")
@require("case.view")
def chain_of_custody(case_id: int):
    """A printable record of the case: its animals and every hand-over, move, hold and change."""
    case = queries.get_case(case_id)
    return render_template("animals/custody.html", case=case, animals=queries.case_animals(case.id),
                           entries=custody_entries(case, restricted=can("restricted_fields.view")))
