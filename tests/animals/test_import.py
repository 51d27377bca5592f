"""The spreadsheet import: upload, preview with per-row errors, confirm; nothing stored until all valid."""

import csv
import io
import json
import re

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from app.animals.models import Animal
from tests import factories

HEADER = ["species", "quantity", "sex", "age_class", "intake_condition", "weight_g", "enclosure", "name",
          "identifiers"]


@pytest.fixture
def catalogue(db, species):
    return {**species,
            "rat snake": factories.SpeciesFactory(scientific_name="Ptyas mucosa", common_name_en="Oriental rat snake",
                                                  common_name_km="ពស់សែកដោង", taxon_class="reptile"),
            "loris": factories.SpeciesFactory(scientific_name="Nycticebus pygmaeus",
                                              common_name_en="Pygmy slow loris"),
            "hornbill": factories.SpeciesFactory(scientific_name="Anthracoceros albirostris",
                                                 common_name_en="Oriental pied hornbill", taxon_class="bird")}


@pytest.fixture
def clinic(facility):
    return factories.EnclosureFactory(facility=facility, code="CLIN-2", name="Clinic ward", kind="clinic")


def _rows(catalogue):
    return [
        ["Ptyas mucosa", "468", "mixed", "adult", "fair", "", "Q-1", "", ""],
        ["Amboina box turtle", "50", "", "", "", "", "q-1", "", ""],
        ["Long-tailed macaque", "1", "female", "juvenile", "good", "2100", "Q-1", "Sophea",
         "microchip:985112000123456"],
        ["manis javanica", "1", "", "", "poor", "4300", "CLIN-2", "", ""],
        ["Pygmy slow loris", "3", "", "", "", "", "CLIN-2", "", "ring:L1, ring:L2"],
        ["Oriental pied hornbill", "1", "male", "adult", "", "", "", "", "ring:HB-9"],
        ["ពស់សែកដោង", "12", "", "", "critical", "", "CLIN-2", "", ""],
        [str(catalogue["hornbill"].id), "2", "", "", "", "", "", "", ""],
    ]


def _csv(tmp_path, rows, name="seizure.csv", bom=False):
    path = tmp_path / name
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _xlsx(tmp_path, rows):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append([int(v) if v.isdigit() else (v or None) for v in row])
    path = tmp_path / "seizure.xlsx"
    workbook.save(path)
    return path


def _upload(client, case, path, name=None):
    with path.open("rb") as handle:
        return client.post_form(f"/cases/{case.id}/import", {"file": (handle, name or path.name)},
                                content_type="multipart/form-data")


def _count(db):
    return db.session.execute(sa.select(sa.func.count()).select_from(Animal)).scalar()


def _confirm(client, case, html):
    match = re.search(r'name="rows_json" value="([^"]*)"', html)
    assert match, "no Confirm import form"
    from html import unescape

    return client.post_form(f"/cases/{case.id}/import", {"rows_json": unescape(match.group(1))})


@pytest.mark.parametrize("kind", ["csv", "csv-bom", "xlsx"])
def test_preview_then_confirm_stores_every_row(client, login, case, catalogue, quarantine, clinic, db, tmp_path,
                                                kind):
    login("coordinator")
    rows = _rows(catalogue)
    path = _xlsx(tmp_path, rows) if kind == "xlsx" else _csv(tmp_path, rows, bom=kind == "csv-bom")
    response = _upload(client, case, path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert 'data-testid="preview-valid"' in html and html.count('data-testid="preview-row"') == 8
    assert "Oriental rat snake — Ptyas mucosa" in html and "Q-1 — Quarantine 1" in html
    assert _count(db) == 0
    response = _confirm(client, case, html)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    animals = db.session.execute(sa.select(Animal).order_by(Animal.accession_number)).scalars().all()
    assert len(animals) == 8 and all(re.fullmatch(r"\d{4}-\d{5}", a.accession_number) for a in animals)
    snakes = animals[0]
    assert (snakes.species_id, snakes.quantity, snakes.enclosure_id) == (catalogue["rat snake"].id, 468, quarantine.id)
    assert sum(a.quantity for a in animals) == 468 + 50 + 1 + 1 + 3 + 1 + 12 + 2
    assert "8 records, 538 animals admitted." in client.get(f"/cases/{case.id}").get_data(as_text=True)


def test_row_errors_are_shown_and_nothing_is_stored_even_when_confirm_is_forced(client, login, case, catalogue,
                                                                                quarantine, db, tmp_path):
    login("coordinator")
    rows = [["Amboina box turtle", "50", "", "", "", "", "Q-1", "", ""],
            ["Dodo", "1", "", "", "", "", "Q-1", "", ""],
            ["Sunda pangolin", "1", "", "", "", "", "NOPE-9", "", ""],
            ["Long-tailed macaque", "two", "x", "", "", "", "", "", ""]]
    response = _upload(client, case, _csv(tmp_path, rows))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    rows_html = html.split('data-testid="preview-row"')[1:]
    assert "Unknown species" in rows_html[1] and "No enclosure with code NOPE-9" in rows_html[2]
    assert "At least 1." in html and "Must be one of" in html
    assert 'name="rows_json"' not in html
    assert html.count("table-danger") == 3
    forced = [dict(zip(HEADER, row, strict=True)) for row in rows]
    response = client.post_form(f"/cases/{case.id}/import", {"rows_json": json.dumps(forced)})
    assert response.status_code == 422 and "Unknown species" in response.get_data(as_text=True)
    assert _count(db) == 0


@pytest.mark.parametrize(("name", "data"), [
    ("rows.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100)),
    ("random.xlsx", bytes(range(256)) * 4),
    ("random.csv", bytes(range(255, -1, -1)) * 4),
    ("latin1.csv", "species\nTortue grecque à tête\n".encode("latin-1")),
    ("notes.docx", b"hello"),
    ("empty.csv", b""),
    ("big.csv", b"species\n" + b"a" * (2 * 1024 * 1024 + 10)),
    ("noheader.csv", b"turtle,5\n"),
])
def test_unreadable_files_get_a_clear_error(client, login, case, catalogue, db, tmp_path, name, data):
    login("coordinator")
    path = tmp_path / name
    path.write_bytes(data)
    response = _upload(client, case, path)
    assert response.status_code == 422
    assert 'data-testid="file-error"' in response.get_data(as_text=True)
    assert _count(db) == 0


def test_the_confirm_form_carries_resolved_species_and_a_tampered_one_is_refused(client, login, case, catalogue,
                                                                               quarantine, db, tmp_path):
    login("coordinator")
    html = _upload(client, case, _csv(tmp_path, [["Sunda pangolin", "1", "", "", "", "", "Q-1", "", ""]]))
    html = html.get_data(as_text=True)
    from html import unescape

    posted = json.loads(unescape(re.search(r'name="rows_json" value="([^"]*)"', html).group(1)))
    assert posted[0]["species"] == str(catalogue["pangolin"].id) and posted[0]["enclosure"] == "Q-1"
    posted[0]["quantity"] = "-4"
    response = client.post_form(f"/cases/{case.id}/import", {"rows_json": json.dumps(posted)})
    assert response.status_code == 422 and "At least 1." in response.get_data(as_text=True)
    response = client.post_form(f"/cases/{case.id}/import", {"rows_json": "not json"})
    assert response.status_code == 422 and 'data-testid="file-error"' in response.get_data(as_text=True)
    assert _count(db) == 0


def test_template_download(client, login):
    login("coordinator")
    response = client.get("/cases/import-template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data(as_text=True).lstrip("\ufeff").startswith(",".join(HEADER))


def test_import_parser_handles_semicolons_and_identifiers():
    from app.animals import importer

    rows = importer.read_upload(b"species;quantity;identifiers\nTurtle;5;microchip:1, ring: A2\n", "x.csv")
    assert rows[0]["quantity"] == "5"
    assert importer.parse_identifiers(rows[0]["identifiers"]) == [{"kind": "microchip", "value": "1"},
                                                                  {"kind": "ring", "value": "A2"}]
    assert importer.read_upload(io.BytesIO(b"species\nX\n").getvalue(), "a.txt")[0]["species"] == "X"
