"""The intake table page: many rows in one submit, all or none, errors on their rows, typing kept."""

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.animals.models import Animal
from tests import factories

FIELDS = ("species", "quantity", "sex", "age_class", "intake_condition", "weight_g", "enclosure", "name",
          "identifiers")


def _form(*rows, blanks=2, start=0):
    """The table as the browser posts it: indexed names (rows-0-species), blank rows included."""
    form = {}
    for n, row in enumerate([*rows, *[{} for _ in range(blanks)]], start=start):
        for field in FIELDS:
            form[f"rows-{n}-{field}"] = str(row.get(field, "1" if field == "quantity" else ""))
    return form


def _count(db):
    return db.session.execute(sa.select(sa.func.count()).select_from(Animal)).scalar()


def _rows(html):
    """The displayed rows' HTML, the clone <template> left out."""
    return html.split('id="intake-row-template"')[0].split('data-testid="intake-row"')[1:]


@pytest.fixture
def khmer_pangolin(species, db):
    species["pangolin"].common_name_km = "សត្វលលក"
    db.session.commit()
    return species["pangolin"]


def test_the_empty_table_has_five_rows_and_the_quarantine_enclosures_first(client, login, case, quarantine):
    factories.EnclosureFactory(facility=case.facility, code="A-1", name="Aviary", is_quarantine=False)
    login("coordinator")
    response = client.get(f"/cases/{case.id}/intake")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and len(_rows(html)) == 5
    assert 'name="rows-4-species"' in html and 'name="rows-__index__-species"' in html
    assert 'list="species-options"' in html and '<datalist id="species-options">' in html
    first = _rows(html)[0]
    assert first.index("Q-1 — Quarantine 1 (quarantine)") < first.index("A-1 — Aviary")
    assert "js/intake.js" in html and "<script>" not in html


def test_coordinator_admits_a_lot_an_individual_and_another_in_one_submit(client, login, case, species, quarantine,
                                                                          khmer_pangolin, db):
    login("coordinator")
    form = _form(
        {"species": "Amboina box turtle", "quantity": 50, "enclosure": quarantine.id, "age_class": "adult"},
        {"species": "macaca FASCICULARIS", "sex": "female", "weight_g": 2100, "enclosure": quarantine.id,
         "name": "Sophea", "identifiers": "microchip:985112000123456, ring:AB12"},
        {"species": "សត្វលលក", "intake_condition": "poor"},
    )
    response = client.post_form(f"/cases/{case.id}/intake", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"/cases/{case.id}")
    db.session.expire_all()
    animals = db.session.execute(sa.select(Animal).options(selectinload(Animal.identifiers))
                                 .order_by(Animal.accession_number)).scalars().all()
    assert [(a.species_id, a.quantity, a.enclosure_id) for a in animals] == [
        (species["turtle"].id, 50, quarantine.id), (species["macaque"].id, 1, quarantine.id),
        (species["pangolin"].id, 1, None)]
    turtles, macaque, pangolin = animals
    assert (turtles.sex, turtles.age_class) == ("mixed", "adult")
    assert (macaque.sex, macaque.intake_weight_g, macaque.name) == ("female", 2100, "Sophea")
    assert sorted((i.kind, i.value) for i in macaque.identifiers) == [("microchip", "985112000123456"),
                                                                      ("ring", "AB12")]
    assert pangolin.intake_condition == "poor"
    assert all(re.fullmatch(r"\d{4}-\d{5}", a.accession_number) for a in animals)
    assert "3 records, 52 animals admitted." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_option_label_is_accepted_as_typed(client, login, case, species, db):
    login("coordinator")
    response = client.post_form(f"/cases/{case.id}/intake", _form({"species": "Sunda pangolin — Manis javanica"}))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.execute(sa.select(Animal.species_id)).scalar_one() == species["pangolin"].id


@pytest.mark.parametrize("role", ["keeper", "vet", "viewer"])
def test_other_roles_may_not_admit(client, login, role, case):
    login(role)
    for path in (f"/cases/{case.id}/intake", f"/cases/{case.id}/import"):
        assert client.get(path).status_code == 403, path
        assert client.post_form(path, _form({"species": "x"})).status_code == 403, path
    assert client.get("/species/options?q=a").status_code == 403
    assert client.get("/cases/import-template.csv").status_code == 403


def test_a_keeper_of_another_facility_is_refused(client, login, case, other_facility):
    # The role is checked before the case is looked up: 403, which tells nothing about the case.
    login("keeper", facilities=[other_facility])
    assert client.get(f"/cases/{case.id}/intake").status_code == 403


def test_a_case_of_another_facility_is_not_found(client, login, case, other_facility, db):
    # A coordinator limited to another facility does not learn that the case exists.
    login("coordinator", facilities=[other_facility])
    assert client.get(f"/cases/{case.id}/intake").status_code == 404
    assert client.post_form(f"/cases/{case.id}/intake", _form({"species": "Amboina box turtle"})).status_code == 404
    assert client.get(f"/cases/{case.id}/import").status_code == 404
    assert _count(db) == 0


@pytest.mark.parametrize(("bad", "message"), [
    ({"species": "Unicorn", "identifiers": "ring:AB12"}, "Unknown species"),
    ({"species": "Sunda pangolin", "quantity": 0, "identifiers": "ring:AB12"}, "At least 1."),
    ({"species": "Sunda pangolin", "identifiers": "985112000123456"}, "Write identifiers as kind:value"),
    ({"species": "Sunda pangolin", "sex": "dragon", "identifiers": "ring:AB12"}, "Must be one of"),
])
def test_one_bad_row_stores_nothing_and_keeps_every_typed_value(client, login, case, species, quarantine, db,
                                                                bad, message):
    login("coordinator")
    form = _form(
        {"species": "Amboina box turtle", "quantity": 50, "enclosure": quarantine.id, "name": "lot A",
         "weight_g": 350, "intake_condition": "critical"},
        {},  # a blank row in the middle: the error must land on the row as displayed
        bad,
        start=3,  # indexes need not start at 0 (rows removed in the browser)
    )
    response = client.post_form(f"/cases/{case.id}/intake", form)
    assert response.status_code == 200
    assert _count(db) == 0
    html = response.get_data(as_text=True)
    assert "Nothing was saved" in html
    rows = _rows(html)
    assert len(rows) == 5
    assert 'value="Amboina box turtle"' in rows[0] and 'value="lot A"' in rows[0] and 'value="350"' in rows[0]
    assert 'value="50"' in rows[0] and f'value="{quarantine.id}" selected' in rows[0]
    assert 'value="critical" selected' in rows[0] and "table-danger" not in rows[0]
    assert "table-danger" not in rows[1] and "table-danger" in rows[2] and message in rows[2]
    assert f'value="{bad["species"]}"' in rows[2] and f'value="{bad["identifiers"]}"' in rows[2]
    assert 'name="rows-2-species"' in rows[2]


def test_an_ambiguous_name_asks_for_more(client, login, case, species, db):
    factories.SpeciesFactory(scientific_name="Macaca leonina", common_name_en="Northern pig-tailed macaque")
    login("coordinator")
    response = client.post_form(f"/cases/{case.id}/intake", _form({"species": "macaque"}))
    assert response.status_code == 200 and "Several species match — be more precise" in response.get_data(as_text=True)
    assert _count(db) == 0


def test_a_part_of_one_name_is_not_taken_for_it(client, login, case, species, db):
    login("coordinator")
    response = client.post_form(f"/cases/{case.id}/intake", _form({"species": "pangolin"}))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Unknown species" in html and "Sunda pangolin — Manis javanica" in html
    assert _count(db) == 0


def test_an_empty_table_is_refused(client, login, case, db):
    login("coordinator")
    response = client.post_form(f"/cases/{case.id}/intake", _form(blanks=5))
    assert response.status_code == 200 and "Add at least one row." in response.get_data(as_text=True)
    assert _count(db) == 0


def test_species_options_by_english_khmer_and_scientific_name(client, login, species, khmer_pangolin):
    login("coordinator")
    for q in ("Sunda pango", "លលក", "manis jav"):
        html = client.get("/species/options", query_string={"q": q}).get_data(as_text=True)
        assert '<option value="Sunda pangolin — Manis javanica">' in html, q
    assert client.get("/species/options", query_string={"q": "zzz"}).get_data(as_text=True) == ""
    assert client.get("/species/options").get_data(as_text=True) == ""


def test_species_options_stop_at_twenty(client, login, db):
    for n in range(25):
        factories.SpeciesFactory(scientific_name=f"Testudo sp{n:02d}", common_name_en=f"Tortoise {n:02d}")
    login("coordinator")
    html = client.get("/species/options", query_string={"q": "tortoise"}).get_data(as_text=True)
    assert html.count("<option") == 20
