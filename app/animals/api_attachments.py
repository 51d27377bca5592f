"""/api/v1/animals/<id>/photos and /api/v1/cases/<id>/photos: multipart uploads for field apps.

The same service as the upload form (app.animals.attachments): checked by
content, re-encoded, stored under generated names. Refused files get 422 with
the message on `file`; a file over 10 MB gets 413. A case also takes a PDF,
stored as a document. Registered by app/api.py at the /api/v1 root.
"""

from flask import request, url_for
from flask_login import current_user
from flask_smorest import abort
from marshmallow import Schema, fields

from app.animals import attachments, queries
from app.animals.models import Attachment
from app.animals.views_attachments import commit_or_discard
from app.api import api_blueprint
from app.auth.permissions import require
from app.common.idempotency import idempotent

bp = api_blueprint("attachments", __name__, "Photos of animals and cases; PDF documents of cases.")


# The multipart body, for the OpenAPI document. It is read by hand rather than by webargs
# so that the record is looked up first: a record of another facility is 404 whatever was sent.
_UPLOAD_BODY = {
    "required": True,
    "content": {"multipart/form-data": {"schema": {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": "JPEG, PNG or WebP (a case also takes PDF); at most 10 MB."},
            "caption": {"type": "string", "maxLength": attachments.CAPTION_MAX},
        },
    }}},
}


class AttachmentSchema(Schema):
    id = fields.Integer()
    case_id = fields.Integer(allow_none=True)
    animal_id = fields.Integer(allow_none=True)
    kind = fields.String(metadata={"description": "photo | document"})
    content_type = fields.String()
    size_bytes = fields.Integer(metadata={"description": "Size of the stored (re-encoded) file."})
    original_name = fields.String()
    caption = fields.String()
    uploaded_at = fields.AwareDateTime()
    uploaded_by_id = fields.Integer(allow_none=True)
    url = fields.Function(lambda a: url_for("animals.attachment_file", attachment_id=a.id))
    thumbnail_url = fields.Function(
        lambda a: url_for("animals.attachment_thumbnail", attachment_id=a.id) if a.thumbnail_name else None
    )


@bp.post("/animals/<int:animal_id>/photos")
@require("attachment.upload")
@idempotent
@bp.doc(requestBody=_UPLOAD_BODY)
@bp.response(201, AttachmentSchema)
@bp.alt_response(413, description="The file is over 10 MB.")
@bp.alt_response(422, description="Not a JPEG, PNG or WebP image (or PDF, for a case), or no file.")
def upload_animal_photo(animal_id):
    """Add a photo to an animal (multipart: `file`, optional `caption`)."""
    animal = queries.get_animal(animal_id)
    return _store(animal=animal)


@bp.post("/cases/<int:case_id>/photos")
@require("attachment.upload")
@idempotent
@bp.doc(requestBody=_UPLOAD_BODY)
@bp.response(201, AttachmentSchema)
@bp.alt_response(413, description="The file is over 10 MB.")
@bp.alt_response(422, description="Not a JPEG, PNG or WebP image (or PDF, for a case), or no file.")
def upload_case_photo(case_id):
    """Add a photo, or a PDF document, to a case (multipart: `file`, optional `caption`)."""
    case = queries.get_case(case_id)
    return _store(case=case)


def _store(**owner) -> Attachment:
    upload = request.files.get("file")
    try:
        attachment = attachments.add_attachment(
            upload.stream if upload else None, upload.filename if upload else None,
            caption=request.form.get("caption", ""), user=current_user, **owner,
        )
    except attachments.AttachmentError as error:
        abort(error.status, message=error.message, errors={"files": error.fields})
    commit_or_discard(attachment)
    return attachment
