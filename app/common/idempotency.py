"""Idempotency-Key for creating POSTs: a retried request returns the first answer, once.

A field app on patchy Wi-Fi resends what it is not sure was received. The key is
claimed in the same transaction as the write it protects, so either both are
stored or neither; the first answer is then kept and replayed for the same key
and body. The same key with another body is a client bug: 422.
"""

import hashlib
import json
from datetime import datetime
from functools import wraps

from flask import current_app, request
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from app.common.db import Base, utcnow
from app.common.errors import json_error


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __audit__ = False
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    response_body: Mapped[dict | list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _request_hash() -> str:
    """What makes two requests "the same": method, path and content.

    A multipart body gets a new random boundary on every send, so for uploads the
    content is the form fields plus each file's name and SHA-256, not the raw bytes.
    """
    digest = hashlib.sha256(request.method.encode() + request.path.encode() + b"\0")
    if request.mimetype == "multipart/form-data":
        for key, value in sorted(request.form.items(multi=True)):
            digest.update(f"{key}={value}\0".encode())
        for key, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            content = upload.stream.read()
            upload.stream.seek(0)
            digest.update(f"{key}:{upload.filename}:".encode() + hashlib.sha256(content).digest())
    else:
        digest.update(request.get_data(cache=True) or b"")
    return digest.hexdigest()


def _replay(row: IdempotencyKey, request_hash: str):
    if row.request_hash != request_hash:
        return json_error(422, "This Idempotency-Key was used with a different request.",
                          fields={"Idempotency-Key": ["Already used with a different body."]})
    if row.status_code is None:
        return json_error(409, "A request with this Idempotency-Key is still being processed.")
    response = current_app.response_class(json.dumps(row.response_body), status=row.status_code,
                                          mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view):
    """Decorate a creating API view (outermost after the route) to honour Idempotency-Key."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        from app.extensions import db

        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or not current_user.is_authenticated:
            return view(*args, **kwargs)
        if len(key) > 200:
            return json_error(422, "Idempotency-Key is too long.", fields={"Idempotency-Key": ["At most 200."]})
        request_hash = _request_hash()
        existing = db.session.execute(
            select(IdempotencyKey).where(IdempotencyKey.user_id == current_user.id, IdempotencyKey.key == key)
        ).scalar_one_or_none()
        if existing is not None:
            return _replay(existing, request_hash)
        claim = IdempotencyKey(user_id=current_user.id, key=key, request_hash=request_hash)
        db.session.add(claim)
        try:
            db.session.flush()
        except IntegrityError:
            # A twin request claimed the key first; answer as it did.
            db.session.rollback()
            existing = db.session.execute(
                select(IdempotencyKey).where(IdempotencyKey.user_id == current_user.id, IdempotencyKey.key == key)
            ).scalar_one()
            return _replay(existing, request_hash)
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except Exception:
            # A refused request leaves no claim: the client may fix the body and retry.
            db.session.rollback()
            raise
        if 200 <= response.status_code < 300 and response.is_json:
            # The view has committed its write together with the claim; keep its answer.
            db.session.add(claim)
            claim.status_code = response.status_code
            claim.response_body = response.get_json()
            db.session.commit()
        else:
            db.session.rollback()
        return response

    return wrapped
