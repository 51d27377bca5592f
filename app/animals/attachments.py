"""Photos and documents of cases and animals: checked by content, re-encoded, stored, looked up.

An upload is trusted for nothing: not its name, not the browser's content type.
A photo is opened with Pillow, verified, opened again and re-encoded, which keeps
the pixels and drops everything else (EXIF with its GPS position, XMP, comments,
embedded profiles) — seizure photos must not tell where an informant stood. A
document is a PDF, recognised by its header and trailer, and stored as sent.
Files get generated names under UPLOAD_DIR and are written before their row is
flushed, so a row never points at a missing file; a caller whose commit fails
calls discard_files() so that no file is left without its row.
"""

import io
import logging
import os
import re
import secrets
import unicodedata
import warnings
from pathlib import Path
from typing import BinaryIO

from flask import abort, current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageCms, ImageOps
from sqlalchemy import func, select

from app.animals.models import Animal, Attachment, Case
from app.animals.services import IntakeError
from app.auth.models import User
from app.auth.permissions import may_see_facility
from app.extensions import db

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 10 * 1024 * 1024
THUMBNAIL_PX = 320
CAPTION_MAX = 300

PHOTO = "photo"
DOCUMENT = "document"

# Pillow format → (content type, extension). Only these are accepted as photos.
PHOTO_FORMATS = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
}
PDF = ("application/pdf", ".pdf")
_CONTENT_TYPES = {ext: content_type for content_type, ext in (*PHOTO_FORMATS.values(), PDF)}

# Every stored name is one of ours: 32 hex digits, ".thumb" for a thumbnail, our extension.
_STORED_NAME = re.compile(r"[0-9a-f]{32}(\.thumb)?\.(jpg|png|webp|pdf)")


class AttachmentError(IntakeError):
    """A refused upload: the message sits on `file` (or `caption`); status 422, or 413 when too large."""

    def __init__(self, message, *, field: str = "file", status: int = 422):
        self.message = str(message)
        self.status = status
        super().__init__({field: [self.message]})


# --- checks and re-encoding --------------------------------------------------------

def _read_limited(stream: BinaryIO | None) -> bytes:
    """The whole file, refusing it (413) as soon as it passes the per-file limit."""
    if stream is None:
        return b""
    data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise AttachmentError(
            _l("The file is larger than %(mb)d MB. Choose a smaller photo or document.",
               mb=MAX_FILE_BYTES // (1024 * 1024)),
            status=413,
        )
    return data


def _is_pdf(data: bytes) -> bool:
    # Readers accept a little trailing junk after %%EOF, so look near the end, not at it.
    return data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]


class NotAPhotoError(AttachmentError):
    """The content is not an image in one of PHOTO_FORMATS (or not a readable one)."""


def _not_a_photo() -> NotAPhotoError:
    return NotAPhotoError(_l("This file is not a JPEG, PNG or WebP image. Choose a photo in one of these formats."))


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert pixels described by an embedded colour profile to sRGB, since the profile is dropped."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        # A broken profile is not worth refusing the photo over: keep the pixels as they are.
        return image


def _for_format(image: Image.Image, fmt: str) -> Image.Image:
    """Pixels in a mode the format can save, transparency kept where the format has it."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if fmt == "JPEG":
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    if fmt == "PNG" and image.mode in ("RGB", "RGBA", "L", "LA"):
        return image
    if fmt == "WEBP" and image.mode in ("RGB", "RGBA"):
        return image
    return image.convert("RGBA" if has_alpha else "RGB")


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=88, optimize=True)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=85)
    else:
        image.save(out, "PNG")
    return out.getvalue()


def _decode(data: bytes) -> tuple[Image.Image, str]:
    """The upload as a loaded, upright image and its format, or AttachmentError."""
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; a bomb is refused either way.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format
                if fmt not in PHOTO_FORMATS:
                    raise _not_a_photo()
                probe.verify()
            # verify() leaves the image unusable, so decode it again from the start.
            image = Image.open(io.BytesIO(data))
            if image.format != fmt:
                raise _not_a_photo()
            limit = Image.MAX_IMAGE_PIXELS
            if limit and image.width * image.height > limit:
                raise Image.DecompressionBombError("too many pixels")
            image.load()
            return ImageOps.exif_transpose(image), fmt
        except AttachmentError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise AttachmentError(_l("This image has too many pixels. Send a photo of at most %(mp)d megapixels.",
                                     mp=(Image.MAX_IMAGE_PIXELS or 0) // 1_000_000)) from None
        except Exception:  # noqa: BLE001 - a malformed file makes Pillow raise almost anything
            raise _not_a_photo() from None


def reencode_photo(data: bytes) -> tuple[bytes, bytes, str]:
    """(photo, thumbnail, Pillow format): the pixels re-encoded without any metadata.

    The EXIF orientation is applied to the pixels first so that photos stay upright
    once the EXIF block is gone. The thumbnail is at most THUMBNAIL_PX on its long side.
    """
    image, fmt = _decode(data)
    image = _for_format(_to_srgb(image), fmt)
    # Nothing from the original's info (exif, xmp, comment, icc_profile, text chunks) is written.
    image.info = {}
    thumbnail = image.copy()
    thumbnail.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX), Image.Resampling.LANCZOS)
    return _encode(image, fmt), _encode(thumbnail, fmt), fmt


# --- storage -----------------------------------------------------------------------

def _root() -> Path:
    return Path(os.path.abspath(current_app.config["UPLOAD_DIR"])) / "attachments"


def stored_path(name: str) -> Path:
    """Where a stored name lives: UPLOAD_DIR/attachments/<first two hex digits>/<name>."""
    if not _STORED_NAME.fullmatch(name or ""):
        raise ValueError(f"not a stored attachment name: {name!r}")
    return _root() / name[:2] / name


def content_type_of(name: str) -> str:
    return _CONTENT_TYPES[Path(name).suffix]


def _write(name: str, data: bytes) -> None:
    path = stored_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    # "x": a generated name that already exists is a bug, never something to overwrite.
    with open(path, "xb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _remove(*names: str | None) -> None:
    for name in names:
        if name:
            try:
                stored_path(name).unlink(missing_ok=True)
            except OSError:
                log.exception("Could not remove stored attachment file %s", name)


def discard_files(attachment: Attachment) -> None:
    """Remove an attachment's files; for a caller whose commit of the row failed."""
    _remove(attachment.stored_name, attachment.thumbnail_name)


def _display_name(filename: str | None) -> str:
    """The uploaded name, for display only: last path part, no control characters, 200 at most."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[:200]


# --- the service -------------------------------------------------------------------

def add_attachment(stream: BinaryIO | None, filename: str | None, *, case: Case | None = None,
                   animal: Animal | None = None, caption: str = "", user: User | None = None,
                   animal_documents: bool = False) -> Attachment:
    """Check, re-encode and store one uploaded file of a case or an animal; flush its row.

    Photos (JPEG, PNG, WebP) for cases and animals, PDF documents for cases (and for
    an animal's medical records, with animal_documents: lab reports, necropsies), each at
    most MAX_FILE_BYTES (AttachmentError with status 413 beyond, 422 for anything
    else refused). The files are written first, then the row is flushed; if the
    flush fails the files are removed again. The caller commits, and calls
    discard_files() if the commit fails.
    """
    if (case is None) == (animal is None):
        raise ValueError("an attachment belongs to exactly one case or one animal")
    caption = (caption or "").strip()
    if len(caption) > CAPTION_MAX:
        raise AttachmentError(_l("At most %(n)d characters.", n=CAPTION_MAX), field="caption")
    data = _read_limited(stream)
    if not data:
        raise AttachmentError(_l("Choose a file to upload."))

    token = secrets.token_hex(16)
    if _is_pdf(data):
        if animal is not None and not animal_documents:
            raise AttachmentError(_l("Only photos (JPEG, PNG or WebP) can be added to an animal's record. "
                                     "Add documents to its case."))
        kind, content, thumbnail, thumbnail_name = DOCUMENT, data, None, None
        content_type, ext = PDF
    elif data.startswith(b"%PDF-"):
        raise AttachmentError(_l("This PDF is incomplete or damaged. Save it again and upload the new copy."))
    else:
        kind = PHOTO
        try:
            content, thumbnail, fmt = reencode_photo(data)
        except NotAPhotoError:
            if case is None and not animal_documents:
                raise
            raise AttachmentError(_l("This file is not a JPEG, PNG or WebP photo, nor a PDF document. "
                                     "Choose a file in one of these formats.")) from None
        content_type, ext = PHOTO_FORMATS[fmt]
        thumbnail_name = f"{token}.thumb{ext}"
    stored_name = f"{token}{ext}"

    written: list[str] = []
    try:
        for name, payload in ((stored_name, content), (thumbnail_name, thumbnail)):
            if name is not None:
                _write(name, payload)
                written.append(name)
        attachment = Attachment(
            case_id=case.id if case is not None else None,
            animal_id=animal.id if animal is not None else None,
            kind=kind, stored_name=stored_name, thumbnail_name=thumbnail_name, content_type=content_type,
            size_bytes=len(content), original_name=_display_name(filename), caption=caption,
            uploaded_by_id=user.id if user is not None else None,
        )
        db.session.add(attachment)
        db.session.flush()
    except BaseException:
        _remove(*written)
        raise
    return attachment


# --- reads -------------------------------------------------------------------------

def get_attachment(attachment_id: int) -> Attachment:
    """An attachment whose case or animal is at one of the user's facilities, or 404."""
    row = db.session.execute(
        select(Attachment, func.coalesce(Case.facility_id, Animal.facility_id))
        .outerjoin(Case, Attachment.case_id == Case.id)
        .outerjoin(Animal, Attachment.animal_id == Animal.id)
        .where(Attachment.id == attachment_id)
    ).one_or_none()
    if row is None or not may_see_facility(row[1]):
        abort(404)
    return row[0]
