"""Photos and documents: checked by content, re-encoded without metadata, stored and served safely.

Every file here is real: made by Pillow (or written as a PDF) in the test itself.
"""

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import ExifTags, Image

from app.animals import attachments
from app.animals.models import Attachment
from app.extensions import db as _db
from tests import factories

STORED = re.compile(r"[0-9a-f]{32}\.(jpg|png|webp|pdf)")
PDF_BYTES = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
             b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
             b"trailer << /Root 1 0 R >>\n%%EOF\n")


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    """UPLOAD_DIR is this test's own folder (the app is shared by the session: restored after)."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def animal(case):
    return factories.AnimalFactory(case=case)


def _image(fmt: str, size=(1200, 800), mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (30, 120, 60) if mode == "RGB" else None).save(out, fmt, **save)
    return out.getvalue()


def _gps_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "FieldCam"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (11.0, 36.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (103.0, 2.0, 44.1)
    return exif


def _jpeg_with_gps(size=(1200, 800), orientation: int | None = None) -> bytes:
    return _image("JPEG", size, exif=_gps_exif(orientation))


def _post(client, url, content: bytes, name: str, content_type="application/octet-stream", caption=""):
    return client.post_form(url, {"file": (io.BytesIO(content), name, content_type), "caption": caption})


def _rows(db):
    db.session.expire_all()
    return list(db.session.execute(sa.select(Attachment).order_by(Attachment.id)).scalars())


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _stored(folder: Path, name: str) -> Path:
    path = folder / "attachments" / name[:2] / name
    assert path.is_file(), f"{name} not under {folder}"
    return path


# --- photos --------------------------------------------------------------------------

def test_a_jpeg_with_gps_is_reencoded_and_stored_without_any_exif(client, login, animal, uploads, db):
    original = _jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as sent:  # the fixture really carries a position
        assert sent.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"
    login("keeper")

    response = _post(client, f"/animals/{animal.id}/attachments", original, "IMG_0042.jpg", "image/jpeg",
                     caption="On arrival")

    assert response.status_code == 302
    [row] = _rows(db)
    assert (row.kind, row.content_type, row.animal_id, row.case_id) == ("photo", "image/jpeg", animal.id, None)
    assert (row.original_name, row.caption) == ("IMG_0042.jpg", "On arrival")
    assert STORED.fullmatch(row.stored_name) and "IMG_0042" not in row.stored_name
    stored = _stored(uploads, row.stored_name).read_bytes()
    assert row.size_bytes == len(stored) and stored != original
    assert b"Exif" not in stored and b"FieldCam" not in stored
    with Image.open(io.BytesIO(stored)) as kept:
        assert kept.format == "JPEG" and kept.size == (1200, 800)
        assert "exif" not in kept.info
        assert not kept.getexif() and not kept.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert set(_files(uploads)) == {_stored(uploads, row.stored_name), _stored(uploads, row.thumbnail_name)}


def test_the_exif_orientation_is_applied_before_it_is_dropped(client, login, animal, uploads, db):
    login("keeper")
    # Orientation 6: the camera was turned, the viewer must rotate the 400×200 pixels to stand 200×400.
    _post(client, f"/animals/{animal.id}/attachments", _jpeg_with_gps((400, 200), orientation=6), "turned.jpg")
    [row] = _rows(db)
    with Image.open(_stored(uploads, row.stored_name)) as kept:
        assert kept.size == (200, 400)


@pytest.mark.parametrize(("fmt", "content_type", "mode"), [
    ("PNG", "image/png", "RGBA"), ("PNG", "image/png", "P"), ("WEBP", "image/webp", "RGB"),
])
def test_png_and_webp_are_accepted_with_a_thumbnail_of_at_most_320_px(client, login, animal, uploads, db,
                                                                      fmt, content_type, mode):
    login("vet")
    # A misleading name and browser type on purpose: only the content counts.
    tall = _image(fmt, (1000, 2400), mode, exif=_gps_exif())
    with Image.open(io.BytesIO(tall)) as sent:
        assert sent.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    response = _post(client, f"/animals/{animal.id}/attachments", tall, "x.gif", "text/plain")
    assert response.status_code == 302
    [row] = _rows(db)
    assert row.content_type == content_type and row.stored_name.endswith("." + fmt.lower())
    with Image.open(_stored(uploads, row.stored_name)) as kept:
        assert (kept.format, kept.size) == (fmt, (1000, 2400))
        assert not kept.getexif() and "exif" not in kept.info
    with Image.open(_stored(uploads, row.thumbnail_name)) as thumb:
        assert thumb.format == fmt and max(thumb.size) == 320 and thumb.size == (133, 320)


def test_a_text_file_named_photo_jpg_is_refused_with_a_clear_message(client, login, animal, uploads, db):
    login("keeper")
    response = _post(client, f"/animals/{animal.id}/attachments", b"just some notes\n" * 50, "photo.jpg",
                     "image/jpeg", caption="kept caption")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This file is not a JPEG, PNG or WebP image" in html
    assert 'value="kept caption"' in html and "is-invalid" in html
    assert _rows(db) == [] and _files(uploads) == []


@pytest.mark.parametrize("content", [
    b"GIF89a" + b"\0" * 64,  # a real format, but not one we take
    _image("BMP", (20, 20)),
    _image("JPEG", (300, 300))[:600],  # truncated
    b"\xff\xd8\xff\xe0" + b"\0" * 100,  # a JPEG header and nothing behind it
])
def test_other_formats_and_broken_images_are_refused(client, login, animal, uploads, db, content):
    login("keeper")
    response = _post(client, f"/animals/{animal.id}/attachments", content, "photo.jpg", "image/jpeg")
    assert response.status_code == 422
    assert "not a JPEG, PNG or WebP image" in response.get_data(as_text=True)
    assert _rows(db) == [] and _files(uploads) == []


def test_a_decompression_bomb_is_refused(client, login, animal, uploads, db):
    # 12000 × 12000 one-bit pixels: a few kB of PNG, 144 megapixels once decoded.
    bomb = _image("PNG", (12000, 12000), mode="1")
    assert len(bomb) < 100_000
    login("keeper")
    response = _post(client, f"/animals/{animal.id}/attachments", bomb, "bomb.png")
    assert response.status_code == 422
    assert "too many pixels" in response.get_data(as_text=True)
    assert _rows(db) == [] and _files(uploads) == []


def test_an_image_over_the_pixel_limit_is_refused_even_below_pillows_error(client, login, animal, uploads, db,
                                                                       monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100 * 100)
    login("keeper")
    response = _post(client, f"/animals/{animal.id}/attachments", _image("PNG", (150, 100)), "big.png")
    assert response.status_code == 422 and _rows(db) == []


def test_a_file_over_10_mb_gets_413_and_nothing_is_stored(client, login, case, uploads, db):
    login("coordinator")
    too_big = b"\xff\xd8\xff\xe0" + b"\0" * (11 * 1024 * 1024)
    response = _post(client, f"/cases/{case.id}/attachments", too_big, "huge.jpg", "image/jpeg")
    assert response.status_code == 413
    assert "larger than 10 MB" in response.get_data(as_text=True)
    assert _rows(db) == [] and _files(uploads) == []


def test_an_empty_form_and_a_long_caption_are_refused_on_the_form(client, login, animal, uploads, db):
    login("keeper")
    response = client.post_form(f"/animals/{animal.id}/attachments", {"caption": "no file"})
    assert response.status_code == 422 and "Choose a file to upload." in response.get_data(as_text=True)
    response = _post(client, f"/animals/{animal.id}/attachments", _image("PNG", (10, 10)), "a.png", caption="x" * 301)
    assert response.status_code == 422 and "At most 300 characters." in response.get_data(as_text=True)
    assert _rows(db) == [] and _files(uploads) == []


def test_the_uploaded_name_never_reaches_the_file_system(client, login, animal, uploads, db):
    login("keeper")
    _post(client, f"/animals/{animal.id}/attachments", _image("JPEG", (50, 50)), "../../../etc/evil\x07.jpg")
    [row] = _rows(db)
    assert row.original_name == "evil.jpg"
    assert all(p.is_relative_to(uploads / "attachments") and STORED.fullmatch(p.name.replace(".thumb", ""))
               for p in _files(uploads))


# --- documents -----------------------------------------------------------------------

def test_a_pdf_is_stored_as_is_as_a_case_document(client, login, case, uploads, db):
    login("coordinator")
    response = _post(client, f"/cases/{case.id}/attachments", PDF_BYTES, "seizure report.pdf", caption="FA report")
    assert response.status_code == 302
    [row] = _rows(db)
    assert (row.kind, row.content_type, row.case_id, row.thumbnail_name) == ("document", "application/pdf",
                                                                            case.id, None)
    assert STORED.fullmatch(row.stored_name) and row.stored_name.endswith(".pdf")
    assert _stored(uploads, row.stored_name).read_bytes() == PDF_BYTES

    served = client.get(f"/attachments/{row.id}")
    assert served.status_code == 200 and served.data == PDF_BYTES
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert "seizure_report.pdf" in served.headers["Content-Disposition"]
    assert client.get(f"/attachments/{row.id}/thumbnail").status_code == 404


@pytest.mark.parametrize("content", [
    b"%PDF-1.4\n" + b"no end of file marker " * 100,  # a PDF header, but cut short
    b"This is not a PDF at all.\n%%EOF\n",
])
def test_a_fake_pdf_is_refused(client, login, case, uploads, db, content):
    login("coordinator")
    response = _post(client, f"/cases/{case.id}/attachments", content, "report.pdf", "application/pdf")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "PDF is incomplete or damaged" in html or "not a JPEG, PNG or WebP photo, nor a PDF document" in html
    assert _rows(db) == [] and _files(uploads) == []


def test_an_animal_takes_photos_not_documents(client, login, animal, uploads, db):
    login("coordinator")
    response = _post(client, f"/animals/{animal.id}/attachments", PDF_BYTES, "report.pdf")
    assert response.status_code == 422 and "Add documents to its case" in response.get_data(as_text=True)
    assert _rows(db) == []


# --- serving and access --------------------------------------------------------------

def _photo_of(animal, uploads, user=None) -> Attachment:
    photo = attachments.add_attachment(io.BytesIO(_jpeg_with_gps()), "p.jpg", animal=animal, user=user)
    _db.session.flush()
    return photo


def test_a_photo_and_its_thumbnail_are_served_inline_with_safe_headers(client, login, animal, uploads):
    photo = _photo_of(animal, uploads)
    login("viewer")
    response = client.get(f"/attachments/{photo.id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("inline;")
    cache = response.headers["Cache-Control"]
    assert "public" not in cache and ("private" in cache or "no-store" in cache)
    assert response.data == _stored(uploads, photo.stored_name).read_bytes()

    thumbnail = client.get(f"/attachments/{photo.id}/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.headers["Content-Type"] == "image/jpeg"
    assert thumbnail.headers["Content-Disposition"].startswith("inline;")
    with Image.open(io.BytesIO(thumbnail.data)) as thumb:
        assert max(thumb.size) <= 320


def test_a_keeper_of_another_facility_gets_404(client, login, animal, case, uploads, other_facility):
    photo = _photo_of(animal, uploads)
    case_photo = attachments.add_attachment(io.BytesIO(_image("PNG", (40, 40))), "c.png", case=case)
    login("keeper", facilities=[other_facility])
    for attachment in (photo, case_photo):
        assert client.get(f"/attachments/{attachment.id}").status_code == 404
        assert client.get(f"/attachments/{attachment.id}/thumbnail").status_code == 404
    assert _post(client, f"/animals/{animal.id}/attachments", _image("PNG", (9, 9)), "a.png").status_code == 404
    assert _post(client, f"/cases/{case.id}/attachments", _image("PNG", (9, 9)), "a.png").status_code == 404
    assert client.get("/attachments/999999").status_code == 404


def test_a_viewer_may_look_but_not_upload(client, login, animal, case, uploads, db):
    photo = _photo_of(animal, uploads)
    login("viewer")
    assert client.get(f"/attachments/{photo.id}").status_code == 200
    assert _post(client, f"/animals/{animal.id}/attachments", _image("PNG", (9, 9)), "a.png").status_code == 403
    assert _post(client, f"/cases/{case.id}/attachments", PDF_BYTES, "r.pdf").status_code == 403
    assert len(_rows(db)) == 1


def test_anonymous_users_are_sent_to_sign_in(client, animal, uploads):
    photo = _photo_of(animal, uploads)
    for url in (f"/attachments/{photo.id}", f"/attachments/{photo.id}/thumbnail"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = _post(client, f"/animals/{animal.id}/attachments", _image("PNG", (9, 9)), "a.png")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_missing_file_on_disk_is_a_404_not_an_error(client, login, animal, uploads):
    photo = _photo_of(animal, uploads)
    _stored(uploads, photo.stored_name).unlink()
    login("keeper")
    assert client.get(f"/attachments/{photo.id}").status_code == 404


def test_a_failed_commit_leaves_no_file_behind(client, login, animal, uploads, db, monkeypatch):
    login("keeper")

    def refuse_commit():
        raise sa.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(_db.session, "commit", refuse_commit)
    with pytest.raises(sa.exc.OperationalError):
        _post(client, f"/animals/{animal.id}/attachments", _image("PNG", (30, 30)), "a.png")
    monkeypatch.undo()
    assert _files(uploads) == []
    assert _rows(db) == []


def test_a_failed_flush_leaves_no_file_behind(animal, uploads, db, monkeypatch):
    def refuse_flush(*_args, **_kwargs):
        raise sa.exc.IntegrityError("INSERT", {}, Exception("constraint"))

    monkeypatch.setattr(_db.session, "flush", refuse_flush)
    with pytest.raises(sa.exc.IntegrityError):
        attachments.add_attachment(io.BytesIO(_image("PNG", (30, 30))), "a.png", animal=animal)
    assert _files(uploads) == []


def test_after_upload_the_user_goes_back_to_the_record(client, login, animal, uploads):
    login("keeper")
    page = f"http://localhost/animals/{animal.id}"
    response = client.post_form(f"/animals/{animal.id}/attachments",
                                {"file": (io.BytesIO(_image("PNG", (9, 9))), "a.png")}, headers={"Referer": page})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"/animals/{animal.id}")
    # A referrer on another site is never followed.
    response = client.post_form(f"/animals/{animal.id}/attachments",
                                {"file": (io.BytesIO(_image("PNG", (9, 9))), "a.png")},
                                headers={"Referer": "https://evil.example/phish"})
    assert "evil.example" not in response.headers["Location"]


# --- the partial ---------------------------------------------------------------------

def test_the_partial_shows_thumbnails_documents_and_the_form(app, animal, case, uploads, make_user):
    from flask import render_template_string
    from flask_login import login_user

    photo = _photo_of(animal, uploads)
    document = attachments.add_attachment(io.BytesIO(PDF_BYTES), "report.pdf", case=case, caption="FA report")
    page = ('{% extends "base.html" %}{% block title %}Record{% endblock %}'
            '{% block content %}<h1>Record</h1>{% include "animals/_attachments.html" %}{% endblock %}')
    for role, form_shown in (("keeper", True), ("viewer", False)):
        with app.test_request_context("/"):
            login_user(make_user(role))
            html = render_template_string(page, attachments=[photo, document],
                                          upload_url=f"/cases/{case.id}/attachments")
        assert f'src="/attachments/{photo.id}/thumbnail"' in html
        assert f'href="/attachments/{document.id}"' in html and "report.pdf" in html and "FA report" in html
        assert ("enctype=\"multipart/form-data\"" in html) is form_shown
        assert "<title>Record" in html and html.count("<h1") == 1
        if form_shown:
            assert 'name="csrf_token"' in html and "application/pdf" in html  # a case takes PDFs
    with app.test_request_context("/"):
        login_user(make_user("keeper"))
        html = render_template_string(page, attachments=[], upload_url=f"/animals/{animal.id}/attachments")
    assert "No photos or documents yet." in html and "application/pdf" not in html


# --- the API (once app/api.py registers app.animals.api_attachments.bp) ---------------

def test_api_photo_upload_and_refusals(client, bearer, animal, case, uploads, db):
    headers = bearer("keeper")
    url = f"/api/v1/animals/{animal.id}/photos"
    ok = client.post(url, data={"file": (io.BytesIO(_jpeg_with_gps()), "a.jpg"), "caption": "day 1"}, headers=headers)
    assert ok.status_code == 201, ok.json
    assert ok.json["kind"] == "photo" and ok.json["caption"] == "day 1"
    assert ok.json["thumbnail_url"] == f"/attachments/{ok.json['id']}/thumbnail"

    fake = client.post(url, data={"file": (io.BytesIO(b"text"), "a.jpg")}, headers=headers)
    assert fake.status_code == 422 and "not a JPEG, PNG or WebP" in fake.json["error"]["fields"]["file"][0]
    huge = client.post(url, data={"file": (io.BytesIO(b"\0" * (11 * 1024 * 1024)), "a.jpg")}, headers=headers)
    assert huge.status_code == 413 and huge.json["error"]["code"] == "payload_too_large"
    missing = client.post(url, data={}, headers=headers)
    assert missing.status_code == 422 and "file" in missing.json["error"]["fields"]
    long_caption = client.post(url, data={"file": (io.BytesIO(_image("PNG", (9, 9))), "a.png"), "caption": "x" * 301},
                               headers=headers)
    assert long_caption.status_code == 422 and "caption" in long_caption.json["error"]["fields"]

    pdf = client.post(f"/api/v1/cases/{case.id}/photos", data={"file": (io.BytesIO(PDF_BYTES), "r.pdf")},
                      headers=headers)
    assert pdf.status_code == 201 and pdf.json["kind"] == "document" and pdf.json["thumbnail_url"] is None
    assert client.post(url, data={"file": (io.BytesIO(_image("PNG", (9, 9))), "a.png")},
                       headers=bearer("viewer")).status_code == 403
    assert len(_rows(db)) == 2


def test_a_retried_upload_with_the_same_idempotency_key_is_stored_once(client, bearer, animal, uploads, db):
    from app.animals.models import Attachment

    headers = {**bearer("keeper"), "Idempotency-Key": "photo-retry-1"}
    url = f"/api/v1/animals/{animal.id}/photos"
    photo = _image("PNG")
    responses = [client.post(url, data={"file": (io.BytesIO(photo), "otter.png")}, headers=headers)
                 for _ in range(2)]
    assert [r.status_code for r in responses] == [201, 201]
    assert responses[1].headers["Idempotent-Replayed"] == "true"
    assert db.session.query(Attachment).filter_by(animal_id=animal.id).count() == 1
