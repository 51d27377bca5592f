"""Turn typed or uploaded intake rows into the rows services.admit_animals takes.

Both the intake table and the spreadsheet import give rows of text (species typed
by name, quantities as strings, enclosures by id or code). This module reads the
file (CSV in UTF-8, or XLSX), resolves species and enclosures, and parses numbers
and identifiers. It checks only what the service cannot (a name that matches no
species, or several); every other rule is the service's, so a bad value is passed
on as typed and the service names it.
"""

import csv
import io

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from app.common.text import fold
from app.extensions import db
from app.reference.models import Enclosure, Species
from app.reference.queries import species_stmt

COLUMNS = ("species", "quantity", "sex", "age_class", "intake_condition", "weight_g", "enclosure", "name",
           "identifiers")
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
LABEL_SEPARATOR = " — "


class ImportFileError(ValueError):
    """The upload cannot be read as an intake spreadsheet; the message says why."""


def species_label(species: Species) -> str:
    """The text of the species box's options: 'Sunda pangolin — Manis javanica' (one species per label)."""
    return f"{species.common_name_en}{LABEL_SEPARATOR}{species.scientific_name}"


def is_blank(raw: dict) -> bool:
    return not any((raw.get(column) or "").strip() for column in COLUMNS if column != "quantity") and (
        (raw.get("quantity") or "").strip() in ("", "1"))


# --- reading a file ----------------------------------------------------------------

def read_upload(data: bytes, filename: str) -> list[dict]:
    """The data rows of a CSV or XLSX file as {column: text}; ImportFileError if it cannot be read."""
    if not data:
        raise ImportFileError(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise ImportFileError(_("The file is too large (at most 2 MB)."))
    name = (filename or "").lower()
    if data[:4] == b"PK\x03\x04" or name.endswith(".xlsx"):
        table = _read_xlsx(data)
    elif name.endswith((".csv", ".txt")):
        table = _read_csv(data)
    else:
        raise ImportFileError(_("Upload a CSV (.csv) or Excel (.xlsx) file."))
    return _rows_from_table(table)


def _read_csv(data: bytes) -> list[list[str]]:
    if b"\x00" in data[:4096]:
        raise ImportFileError(_("This file is not a CSV text file. Save the spreadsheet as CSV (UTF-8) or XLSX."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        message = _("The CSV file is not in UTF-8. Save it as \"CSV UTF-8\" and upload it again.")
        raise ImportFileError(message) from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return list(csv.reader(io.StringIO(text), dialect))


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds of errors on a damaged file; none may be a 500
        raise ImportFileError(_("This file is not a readable Excel (.xlsx) workbook.")) from None
    try:
        sheet = workbook.worksheets[0]
        table = []
        for values in sheet.iter_rows(values_only=True):
            table.append([_cell_text(v) for v in values])
            if len(table) > MAX_ROWS + 1:
                break
        return table
    finally:
        workbook.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 50 as 50.0
    return str(value)


def _rows_from_table(table: list[list[str]]) -> list[dict]:
    while table and not any((c or "").strip() for c in table[0]):
        table = table[1:]
    if not table:
        raise ImportFileError(_("The file has no header row."))
    header = [fold(c or "").replace(" ", "_") for c in table[0]]
    if "species" not in header:
        raise ImportFileError(_("The header row must name the columns; at least \"species\". Download the template."))
    rows = []
    for values in table[1:]:
        raw = dict.fromkeys(COLUMNS, "")
        for column, value in zip(header, values, strict=False):
            if column in raw:
                raw[column] = (value or "").strip()
        if not is_blank(raw):
            rows.append(raw)
    if not rows:
        raise ImportFileError(_("The file has no rows of animals under its header."))
    if len(rows) > MAX_ROWS:
        raise ImportFileError(_("At most %(n)d rows in one file.", n=MAX_ROWS))
    return rows


# --- resolving and parsing ---------------------------------------------------------

def resolve_species(texts: set[str]) -> dict[str, tuple[Species | None, str | None]]:
    """{typed text: (species, None) or (None, message)}; one query per distinct text.

    Only an exact match counts — of an option's label, or of the scientific, English
    or Khmer name (case- and accent-insensitive): these rows become legal evidence,
    so "turtle" must not quietly become whichever turtle the catalogue holds today.
    """
    return {text: _resolve_one(text.strip()) for text in texts}


def _resolve_one(text: str) -> tuple[Species | None, str | None]:
    if not text:
        return None, _("Choose a species.")
    if text.isdigit():  # a catalogue id, as the import template allows
        species = db.session.get(Species, int(text))
        return (species, None) if species else (None, _("Unknown species"))
    # Search by the scientific half of a label: the whole label is in no name column.
    searched = text.rsplit(LABEL_SEPARATOR.strip(), 1)[-1].strip() or text
    candidates = db.session.execute(species_stmt(searched).limit(50)).scalars().all()
    folded = fold(text)
    exact = [s for s in candidates if folded in {
        fold(species_label(s)), fold(s.scientific_name), fold(s.common_name_en), fold(s.common_name_km or "")}]
    if len(exact) == 1:
        return exact[0], None
    if len(exact) > 1 or len(candidates) > 1:
        return None, _("Several species match — be more precise")
    if len(candidates) == 1:
        return None, _("Unknown species — did you mean %(label)s?", label=species_label(candidates[0]))
    return None, _("Unknown species")


def enclosures_by_code(facility_id: int, codes: set[str]) -> dict[str, Enclosure]:
    """{code (lower-case): enclosure} of one facility, for the codes given (one query)."""
    wanted = {c.strip().lower() for c in codes if c.strip()}
    if not wanted:
        return {}
    rows = db.session.execute(select(Enclosure).where(
        Enclosure.facility_id == facility_id, or_(*[func.lower(Enclosure.code) == c for c in wanted]))).scalars()
    return {e.code.lower(): e for e in rows}


def parse_int(text: str):
    """An int when the text is a whole number; otherwise the text itself, for the service to refuse."""
    text = (text or "").strip().replace(",", "").replace(" ", "")
    if text.endswith(".0"):
        text = text[:-2]
    try:
        return int(text)
    except ValueError:
        return text


def parse_identifiers(text: str) -> list[dict]:
    """'microchip:985112000123456, ring:AB12' → [{kind, value}, ...]; a part without 'kind:' has no kind."""
    identifiers = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        kind, sep, value = part.partition(":")
        if not sep:
            kind, value = "", part
        identifiers.append({"kind": kind.strip().lower(), "value": value.strip()})
    return identifiers


def identifier_syntax_error(text: str) -> str | None:
    """A message when the identifiers text is not 'kind:value, kind:value'; the kinds are the service's to check."""
    if any(not i["kind"] or not i["value"] for i in parse_identifiers(text)):
        return _("Write identifiers as kind:value, separated by commas (e.g. microchip:985112000123456, ring:AB12).")
    return None


def to_service_row(raw: dict, species: Species | None, enclosure_id) -> dict:
    """One row in the service's terms; empty choices are left out so the service's defaults apply."""
    row = {"species_id": species.id if species else None, "enclosure_id": enclosure_id,
           "name": (raw.get("name") or "").strip(), "identifiers": parse_identifiers(raw.get("identifiers", ""))}
    quantity = (raw.get("quantity") or "").strip()
    row["quantity"] = parse_int(quantity) if quantity else 1
    weight = (raw.get("weight_g") or "").strip()
    if weight:
        row["intake_weight_g"] = parse_int(weight)
    for choice in ("sex", "age_class", "intake_condition"):
        value = (raw.get(choice) or "").strip().lower().replace(" ", "_")
        if value:
            row[choice] = value
    return row


def template_csv() -> str:
    """The downloadable template: the header and two example rows."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow(["Amboina box turtle", "50", "mixed", "adult", "fair", "", "Q-1", "", ""])
    writer.writerow(["Macaca fascicularis", "1", "female", "juvenile", "good", "2100", "Q-1", "",
                     "microchip:985112000123456"])
    return out.getvalue()
