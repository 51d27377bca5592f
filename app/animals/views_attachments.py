"""Photos and documents of cases and animals: upload, and serving to those allowed to see them.

Uploads come from the form in templates/animals/_attachments.html, shown on the
case and animal pages. A refused file re-renders that form on its own page, with
the message next to the field and the caption kept (422, or 413 when too large).
Files are served only through these views, after the role and facility checks,
never from a static folder.
"""

import logging
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError
from werkzeug.utils import secure_filename

from app.animals import attachments, queries
from app.animals.models import Animal, Attachment, Case
from app.animals.views import bp
from app.auth.permissions import require
from app.extensions import db

log = logging.getLogger(__name__)


@bp.post("/cases/<int:case_id>/attachments")
@require("attachment.upload")
def upload_case_attachment(case_id: int):
    """Add a photo or a PDF document to a case."""
    return _upload(case=queries.get_case(case_id))


@bp.post("/animals/<int:animal_id>/attachments")
@require("attachment.upload")
def upload_animal_attachment(animal_id: int):
    """Add a photo to an animal's record."""
    return _upload(animal=queries.get_animal(animal_id))


@bp.get("/attachments/<int:attachment_id>")
@require("attachment.view")
def attachment_file(attachment_id: int):
    """The photo (shown inline) or the document (downloaded)."""
    attachment = attachments.get_attachment(attachment_id)
    return _send(attachment, attachment.stored_name, attachment.content_type)


@bp.get("/attachments/<int:attachment_id>/thumbnail")
@require("attachment.view")
def attachment_thumbnail(attachment_id: int):
    """A photo's thumbnail (documents have none: 404)."""
    attachment = attachments.get_attachment(attachment_id)
    if not attachment.thumbnail_name:
        abort(404)
    return _send(attachment, attachment.thumbnail_name, attachments.content_type_of(attachment.thumbnail_name))


# --- helpers -----------------------------------------------------------------------

def _upload(*, case: Case | None = None, animal: Animal | None = None):
    upload = request.files.get("file")
    caption = request.form.get("caption", "")
    try:
        attachment = attachments.add_attachment(
            upload.stream if upload else None, upload.filename if upload else None,
            case=case, animal=animal, caption=caption, user=current_user,
        )
    except attachments.AttachmentError as error:
        return _form_again(error, case=case, animal=animal, caption=caption)
    kind = attachment.kind
    commit_or_discard(attachment)
    flash(_("Photo added.") if kind == attachments.PHOTO else _("Document added."), "success")
    return redirect(_record_url(case, animal))


def commit_or_discard(attachment: Attachment) -> None:
    """Commit the new row; if that fails, remove its files so that none is left without a row."""
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        attachments.discard_files(attachment)
        raise


def _form_again(error: attachments.AttachmentError, *, case: Case | None, animal: Animal | None, caption: str):
    """The upload form on its own page, the message next to its field, the caption kept."""
    if case is not None:
        owner = _("Case %(reference)s", reference=case.reference)
        existing = queries.attachments_of(case_id=case.id)
    else:
        owner = _("Animal %(number)s", number=animal.accession_number)
        existing = queries.attachments_of(animal_id=animal.id)
    page = render_template(
        "animals/_attachments.html", standalone=True, owner_label=owner, back_url=_record_url(case, animal),
        attachments=existing, upload_url=request.path, accepts_documents=case is not None,
        upload_errors=error.fields, caption=caption,
    )
    return page, error.status


def _record_url(case: Case | None, animal: Animal | None) -> str:
    """The page of the record the file was added to, at its attachments."""
    if case is not None:
        endpoint, args = "animals.case_detail", {"case_id": case.id}
    else:
        endpoint, args = "animals.animal_record", {"animal_id": animal.id}
    try:
        return url_for(endpoint, _anchor="attachments", **args)
    except BuildError:
        # The case and animal pages are being built; until they exist, go back where the form was.
        return _same_site_referrer() or "/"


def _same_site_referrer() -> str | None:
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None  # never redirect off the site
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _send(attachment: Attachment, name: str, content_type: str):
    path = attachments.stored_path(name)
    if not path.is_file():
        log.error("Attachment %s: stored file %s is missing", attachment.id, name)
        abort(404)
    is_document = attachment.kind == attachments.DOCUMENT
    response = send_file(
        path, mimetype=content_type, as_attachment=is_document, download_name=_download_name(attachment, name),
        conditional=True, etag=True, max_age=None,
    )
    # The record is confidential: never in a shared cache. (The app's after_request hook
    # makes it no-store for signed-in users, which is stricter still.)
    response.cache_control.public = False
    response.cache_control.private = True
    return response


def _download_name(attachment: Attachment, name: str) -> str:
    """A safe file name for the browser: the uploaded one for documents, a generated one for photos."""
    suffix = name.rsplit(".", 1)[-1]
    if attachment.kind == attachments.DOCUMENT:
        base = secure_filename(attachment.original_name)
        base = base[:-4] if base.lower().endswith(".pdf") else base
        return f"{base or f'document-{attachment.id}'}.{suffix}"
    return f"photo-{attachment.id}.{suffix}"
