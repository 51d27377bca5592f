"""/api/v1/facilities, /enclosures and /species."""


from app.api import PageArgs, api_blueprint, check_version, list_schema, refused_as_422
from app.auth.permissions import require
from app.common.pagination import paginate
from app.extensions import db
from app.reference import queries, services
from app.reference.schemas import (
    EnclosurePatchSchema,
    EnclosureQuerySchema,
    EnclosureSchema,
    FacilityPatchSchema,
    FacilitySchema,
    SpeciesPatchSchema,
    SpeciesQuerySchema,
    SpeciesSchema,
)

facilities_bp = api_blueprint("facilities", __name__, "Rescue centres, release stations and sanctuaries.")
enclosures_bp = api_blueprint("enclosures", __name__, "Enclosures at each facility.")
species_bp = api_blueprint("species", __name__, "The species catalogue.")


@facilities_bp.get("")
@require("facility.view")
@facilities_bp.arguments(PageArgs, location="query")
@facilities_bp.response(200, list_schema(FacilitySchema))
def list_facilities(args):
    """Facilities you belong to (all of them for network-wide staff)."""
    return paginate(queries.facilities_stmt(), args["page"], args["per_page"]).envelope()


@facilities_bp.post("")
@require("facility.manage")
@facilities_bp.arguments(FacilitySchema)
@facilities_bp.response(201, FacilitySchema)
def create_facility(args):
    with refused_as_422():
        facility = services.create_facility(**args)
    db.session.commit()
    return facility


@facilities_bp.get("/<int:facility_id>")
@require("facility.view")
@facilities_bp.response(200, FacilitySchema)
def get_facility(facility_id):
    return queries.get_facility(facility_id)


@facilities_bp.patch("/<int:facility_id>")
@require("facility.manage")
@facilities_bp.arguments(FacilityPatchSchema)
@facilities_bp.response(200, FacilitySchema)
def patch_facility(args, facility_id):
    facility = queries.get_facility(facility_id)
    check_version(facility, args.pop("version"), FacilitySchema())
    with refused_as_422():
        services.update_facility(facility, args)
    db.session.commit()
    return facility


@enclosures_bp.get("")
@require("enclosure.view")
@enclosures_bp.arguments(EnclosureQuerySchema, location="query")
@enclosures_bp.arguments(PageArgs, location="query")
@enclosures_bp.response(200, list_schema(EnclosureSchema))
def list_enclosures(filters, args):
    """Enclosures at your facilities; ?facility_id= and ?is_quarantine= narrow it down."""
    stmt = queries.enclosures_stmt(facility_id=filters.get("facility_id"), quarantine=filters.get("is_quarantine"))
    return paginate(stmt, args["page"], args["per_page"]).envelope()


@enclosures_bp.post("")
@require("enclosure.manage")
@enclosures_bp.arguments(EnclosureSchema)
@enclosures_bp.response(201, EnclosureSchema)
def create_enclosure(args):
    queries.get_facility(args["facility_id"])
    with refused_as_422():
        enclosure = services.create_enclosure(**args)
    db.session.commit()
    return enclosure


@enclosures_bp.get("/<int:enclosure_id>")
@require("enclosure.view")
@enclosures_bp.response(200, EnclosureSchema)
def get_enclosure(enclosure_id):
    return queries.get_enclosure(enclosure_id)


@enclosures_bp.patch("/<int:enclosure_id>")
@require("enclosure.manage")
@enclosures_bp.arguments(EnclosurePatchSchema)
@enclosures_bp.response(200, EnclosureSchema)
def patch_enclosure(args, enclosure_id):
    enclosure = queries.get_enclosure(enclosure_id)
    check_version(enclosure, args.pop("version"), EnclosureSchema())
    with refused_as_422():
        services.update_enclosure(enclosure, args)
    db.session.commit()
    return enclosure


@species_bp.get("")
@require("species.view")
@species_bp.arguments(SpeciesQuerySchema, location="query")
@species_bp.arguments(PageArgs, location="query")
@species_bp.response(200, list_schema(SpeciesSchema))
def list_species(filters, args):
    """Species; ?q= matches scientific, English and Khmer names, ignoring case and accents."""
    stmt = queries.species_stmt(filters.get("q"), filters.get("taxon_class"))
    return paginate(stmt, args["page"], args["per_page"]).envelope()


@species_bp.post("")
@require("species.manage")
@species_bp.arguments(SpeciesSchema)
@species_bp.response(201, SpeciesSchema)
def create_species(args):
    with refused_as_422():
        species = services.create_species(**args)
    db.session.commit()
    return species


@species_bp.get("/<int:species_id>")
@require("species.view")
@species_bp.response(200, SpeciesSchema)
def get_species(species_id):
    return queries.get_species(species_id)


@species_bp.patch("/<int:species_id>")
@require("species.manage")
@species_bp.arguments(SpeciesPatchSchema)
@species_bp.response(200, SpeciesSchema)
def patch_species(args, species_id):
    species = queries.get_species(species_id)
    check_version(species, args.pop("version"), SpeciesSchema())
    with refused_as_422():
        services.update_species(species, args)
    db.session.commit()
    return species
