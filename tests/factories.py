"""factory_boy factories for the models, writing through the test's database session."""

from datetime import timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory

from app.animals.models import Animal, Case
from app.auth.models import Facility, User
from app.auth.passwords import hash_password
from app.common.db import utcnow
from app.extensions import db
from app.reference.models import Enclosure, Species

DEFAULT_PASSWORD = "correct horse battery staple"


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731 - the current app's session
        sqlalchemy_session_persistence = "flush"


class FacilityFactory(BaseFactory):
    class Meta:
        model = Facility

    code = factory.Sequence(lambda n: f"F{n:03d}")
    name = factory.Sequence(lambda n: f"Rescue centre {n}")
    kind = "rescue_centre"
    province = "Takeo"
    timezone = "Asia/Phnom_Penh"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    name = factory.Sequence(lambda n: f"User {n}")
    role = "keeper"
    password_hash = factory.LazyFunction(lambda: hash_password(DEFAULT_PASSWORD))
    facilities = factory.LazyFunction(list)


class EnclosureFactory(BaseFactory):
    class Meta:
        model = Enclosure

    facility = factory.SubFactory(FacilityFactory)
    code = factory.Sequence(lambda n: f"E{n:03d}")
    name = factory.Sequence(lambda n: f"Enclosure {n}")
    section = "Section A"
    kind = "cage"
    capacity = 10
    is_quarantine = False


class SpeciesFactory(BaseFactory):
    class Meta:
        model = Species

    scientific_name = factory.Sequence(lambda n: f"Testus species{n}")
    common_name_en = factory.Sequence(lambda n: f"Test animal {n}")
    common_name_km = ""
    taxon_class = "mammal"
    iucn_status = "LC"
    cites_appendix = "none"
    kh_category = "not_listed"
    quarantine_days = 30


class CaseFactory(BaseFactory):
    class Meta:
        model = Case

    facility = factory.SubFactory(FacilityFactory)
    reference = factory.Sequence(lambda n: f"C-2026-{n + 9000:04d}")
    occurred_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=2))
    source = "enforcement_seizure"
    agency = "Forestry Administration"


class AnimalFactory(BaseFactory):
    class Meta:
        model = Animal

    case = factory.SubFactory(CaseFactory)
    facility_id = factory.SelfAttribute("case.facility_id")
    species = factory.SubFactory(SpeciesFactory)
    accession_number = factory.Sequence(lambda n: f"2026-{n + 90000:05d}")
    intake_quantity = 1
    quantity = factory.SelfAttribute("intake_quantity")
    admitted_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=1))
