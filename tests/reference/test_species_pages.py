"""Species pages: admin create/edit/delete, roles, search by any name, badges, bad input, stale edits, query counts."""

import re

import pytest
import sqlalchemy as sa

from app.reference.models import Species
from tests import factories
from tests.reference import error_next_to


def _species_count(db) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(Species)).scalar_one()


def _reload(db, species_id):
    db.session.expire_all()
    return db.session.get(Species, species_id)


def _form(**changes) -> dict:
    data = {"scientific_name": "Manis javanica", "common_name_en": "Sunda pangolin",
            "common_name_km": "ផ្កាយ", "taxon_class": "mammal", "iucn_status": "CR", "cites_appendix": "I",
            "kh_category": "endangered", "quarantine_days": "30", "zoonosis_note": "Gloves; coronavirus risk."}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def catalogue(db):
    return [
        factories.SpeciesFactory(scientific_name="Helarctos malayanus", common_name_en="Sun bear",
                                 common_name_km="ខ្លាឃ្មុំ", iucn_status="VU", cites_appendix="I",
                                 kh_category="rare"),
        factories.SpeciesFactory(scientific_name="Nycticebus bengalensis", common_name_en="Bengal slow loris",
                                 common_name_km="ថ្មកែវ", iucn_status="EN", cites_appendix="I",
                                 kh_category="endangered"),
        factories.SpeciesFactory(scientific_name="Buceros bicornis", common_name_en="Great hornbill",
                                 taxon_class="bird", iucn_status="VU", cites_appendix="I"),
    ]


def _names(html: str) -> list[str]:
    return re.findall(r"<em>([^<]+)</em>", html.split("<tbody>", 1)[1])


def test_admin_creates_edits_and_deletes_a_species(client, login, db):
    login("admin")
    assert client.get("/species/new").status_code == 200
    response = client.post_form("/species/new", _form())
    assert response.status_code == 302
    species = db.session.execute(sa.select(Species).where(Species.scientific_name == "Manis javanica")).scalar_one()
    assert (species.common_name_km, species.iucn_status, species.cites_appendix) == ("ផ្កាយ", "CR", "I")
    assert response.headers["Location"].endswith(f"/species/{species.id}")
    detail = client.get(f"/species/{species.id}").get_data(as_text=True)
    assert "Sunda pangolin" in detail and "coronavirus risk" in detail

    response = client.post_form(f"/species/{species.id}/edit",
                                _form(common_name_en="Sunda pangolin (Malayan)", quarantine_days="45",
                                      version=str(species.version)))
    assert response.status_code == 302
    species = _reload(db, species.id)
    assert (species.common_name_en, species.quarantine_days) == ("Sunda pangolin (Malayan)", 45)

    response = client.post_form(f"/species/{species.id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith("/species")
    assert _reload(db, species.id) is None


@pytest.mark.parametrize("role", ["viewer", "keeper", "vet", "coordinator"])
def test_only_admins_change_the_catalogue(client, login, db, catalogue, role):
    species = catalogue[0]
    login(role)
    assert client.get("/species").status_code == 200
    assert client.get(f"/species/{species.id}").status_code == 200
    assert client.get("/species/new").status_code == 403
    assert client.get(f"/species/{species.id}/edit").status_code == 403
    assert client.post_form("/species/new", _form()).status_code == 403
    assert client.post_form(f"/species/{species.id}/edit", _form(version=str(species.version))).status_code == 403
    assert client.post_form(f"/species/{species.id}/delete").status_code == 403
    assert _species_count(db) == 3
    assert _reload(db, species.id).scientific_name == "Helarctos malayanus"


def test_anonymous_is_sent_to_sign_in(client, db, catalogue):
    species = catalogue[0]
    for path in ("/species", f"/species/{species.id}", "/species/new", f"/species/{species.id}/edit"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post_form("/species/new", _form())
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _species_count(db) == 3


def test_unknown_species_is_404(client, login, db):
    login("viewer")
    assert client.get("/species/999999").status_code == 404


@pytest.mark.parametrize(("q", "expected"), [
    ("sun bear", "Helarctos malayanus"),
    ("SUN BEAR", "Helarctos malayanus"),
    ("Sün Béar", "Helarctos malayanus"),
    ("ខ្លាឃ្មុំ", "Helarctos malayanus"),
    ("ថ្មកែវ", "Nycticebus bengalensis"),
    ("nycticebus", "Nycticebus bengalensis"),
    ("Nyctícebus BENGALÉNSIS", "Nycticebus bengalensis"),
    ("slow lorís", "Nycticebus bengalensis"),
    ("HORNBILL", "Buceros bicornis"),
])
def test_search_finds_by_any_name_ignoring_case_and_accents(client, login, catalogue, q, expected):
    login("keeper")
    response = client.get("/species", query_string={"q": q})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _names(html) == [expected]
    assert f'value="{q}"' in html  # the search box keeps what was typed


def test_filter_by_taxon_class_and_unknown_class_is_ignored(client, login, catalogue):
    login("viewer")
    assert _names(client.get("/species?taxon_class=bird").get_data(as_text=True)) == ["Buceros bicornis"]
    assert len(_names(client.get("/species?taxon_class=dragon").get_data(as_text=True))) == 3
    assert _names(client.get("/species?taxon_class=mammal&q=bear").get_data(as_text=True)) == ["Helarctos malayanus"]


def test_rows_show_protection_badges_and_the_khmer_name(client, login, catalogue):
    login("viewer")
    html = client.get("/species").get_data(as_text=True)
    assert 'class="badge badge-iucn-VU' in html and 'class="badge badge-iucn-EN' in html
    assert html.count('data-testid="cites"') == 3
    assert html.count('data-testid="kh-category"') == 3
    assert "CITES I" in html
    assert re.search(r'<span class="khmer" lang="km">ខ្លាឃ្មុំ</span>', html)


def test_list_is_paginated(client, login, db):
    factories.SpeciesFactory.create_batch(3)
    login("viewer")
    html = client.get("/species?per_page=2").get_data(as_text=True)
    assert html.count('data-testid="species-row"') == 2 and "Page 1 of 2" in html
    assert client.get("/species?per_page=2&page=2").get_data(as_text=True).count('data-testid="species-row"') == 1


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"taxon_class": "dinosaur"}, "taxon_class", "Must be one of:"),
    ({"scientific_name": "Helarctos malayanus"}, "scientific_name", "This species is already in the catalogue."),
    ({"quarantine_days": "400"}, "quarantine_days", "Between 0 and 365 days."),
    ({"quarantine_days": "a month"}, "quarantine_days", "Not a valid integer value."),
    ({"iucn_status": "ZZ"}, "iucn_status", "Must be one of:"),
    ({"common_name_en": ""}, "common_name_en", "This field is required."),
])
def test_bad_input_re_renders_with_the_error_and_what_was_typed(client, login, db, catalogue, changes, field,
                                                                message):
    login("admin")
    response = client.post_form("/species/new", _form(**changes))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert error_next_to(html, field, message)
    assert "Gloves; coronavirus risk." in html  # the note typed is kept
    assert 'value="ផ្កាយ"' in html
    assert _species_count(db) == 3


def test_duplicate_scientific_name_on_edit_is_refused(client, login, db, catalogue):
    loris = catalogue[1]
    login("admin")
    response = client.post_form(f"/species/{loris.id}/edit",
                                _form(scientific_name="Helarctos malayanus", common_name_en="Renamed",
                                      version=str(loris.version)))
    assert response.status_code == 200
    assert "This species is already in the catalogue." in response.get_data(as_text=True)
    loris = _reload(db, loris.id)
    assert (loris.scientific_name, loris.common_name_en) == ("Nycticebus bengalensis", "Bengal slow loris")


def test_stale_version_is_refused_and_nothing_is_overwritten(client, login, db, catalogue):
    bear = catalogue[0]
    stale = bear.version
    login("admin")
    first = _form(scientific_name="Helarctos malayanus", common_name_en="Malayan sun bear", version=str(stale))
    assert client.post_form(f"/species/{bear.id}/edit", first).status_code == 302
    current = _reload(db, bear.id)

    mine = _form(scientific_name="Helarctos malayanus", common_name_en="Honey bear", version=str(stale))
    response = client.post_form(f"/species/{bear.id}/edit", mine)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "changed by someone else" in html
    assert 'value="Honey bear"' in html and "Malayan sun bear" in html
    assert f'name="version" type="hidden" value="{current.version}"' in html
    assert _reload(db, bear.id).common_name_en == "Malayan sun bear"

    # Saving again from the re-armed form is a deliberate overwrite, and works.
    mine["version"] = str(current.version)
    assert client.post_form(f"/species/{bear.id}/edit", mine).status_code == 302
    assert _reload(db, bear.id).common_name_en == "Honey bear"


def test_delete_of_a_species_in_use_is_refused_without_an_error_page(client, login, db, facility, catalogue):
    bear = catalogue[0]
    factories.AnimalFactory(case=factories.CaseFactory(facility=facility), species=bear)
    login("admin")
    response = client.post_form(f"/species/{bear.id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/species/{bear.id}")
    assert "cannot be deleted" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _reload(db, bear.id) is not None


def test_pages_have_no_inline_script_or_style(client, login, catalogue):
    login("admin")
    species = catalogue[0]
    for path in ("/species", f"/species/{species.id}", "/species/new", f"/species/{species.id}/edit"):
        html = client.get(path).get_data(as_text=True)
        assert "style=" not in html
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


def test_species_list_query_count_is_the_same_for_1_and_80(client, login, db, count_queries):
    login("viewer")
    factories.SpeciesFactory()
    with count_queries() as one:
        assert client.get("/species?per_page=100").status_code == 200
    factories.SpeciesFactory.create_batch(79)
    with count_queries() as eighty:
        html = client.get("/species?per_page=100").get_data(as_text=True)
    assert html.count('data-testid="species-row"') == 80
    assert one.count == eighty.count, f"1 species: {one!r}\n80 species: {eighty!r}"
