"""One error handler for the whole app: JSON envelopes under /api/, HTML pages elsewhere."""

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}

ERROR_PAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    401: (_l("Sign-in needed"), _l("Please sign in to continue.")),
    403: (_l("Not allowed"), _l("Your role does not allow this action.")),
    404: (_l("Not found"), _l("There is nothing here. The link may be old or mistyped.")),
    405: (_l("Not allowed here"), _l("This page does not accept that kind of request.")),
    409: (_l("Changed by someone else"), _l("The record changed while you were working. Reload it and try again.")),
    413: (_l("File too large"), _l("The file is larger than the limit. Choose a smaller one.")),
    429: (_l("Too many attempts"), _l("Too many attempts in a short time. Wait a minute and try again.")),
    500: (_l("Something went wrong"), _l("The error has been logged. Nothing you saved before this page was lost.")),
    503: (_l("Unavailable"), _l("The service is not available right now. Try again shortly.")),
}

class RuleError(ValueError):
    """A change refused by a business rule, with messages per field (and per row, for tables).

    Services raise it (or a domain's subclass); pages put the messages next to their
    fields, the API answers 422 with them (app.api.refused_as_422).
    """

    def __init__(self, fields: dict | None = None, rows: dict[int, dict] | None = None):
        self.fields = fields or {}
        self.rows = rows or {}
        parts = [f"{k}: {' '.join(map(str, v))}" for k, v in self.fields.items()]
        parts += [f"row {i + 1}: {k}: {' '.join(map(str, v))}"
                  for i, errs in self.rows.items() for k, v in errs.items()]
        super().__init__("; ".join(parts))

    def api_fields(self) -> dict:
        """The `fields` of the API error envelope."""
        return self.fields


# Response headers worth passing on from the exception (Allow on 405, Retry-After on 429).
_KEPT_HEADERS = {"allow", "retry-after", "www-authenticate"}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _field_messages(data: dict) -> dict | None:
    """Flatten webargs' {location: {field: [...]}} into {field: [...]}."""
    messages = data.get("messages") or data.get("errors")
    if not messages:
        return data.get("fields")
    flat: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def json_error(status: int, message: str, *, code: str | None = None, fields=None, headers=None, **extra):
    """A response in the API error envelope: {"error": {"code", "message", "fields", ...}}."""
    body = {"code": code or ERROR_CODES.get(status, "error"), "message": message}
    if fields:
        body["fields"] = fields
    body.update(extra)
    response = jsonify({"error": body})
    response.status_code = status
    for name, value in headers or []:
        response.headers[name] = value
    return response


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    headers = [(k, v) for k, v in error.get_headers() if k.lower() in _KEPT_HEADERS]
    data = getattr(error, "data", None) or {}
    if wants_json():
        extra = {k: v for k, v in data.items() if k in {"current", "case"}}
        message = data.get("message") or error.description or ERROR_CODES.get(status, "")
        if status == 422 and not data.get("message"):
            message = "The request has invalid fields."
        return json_error(
            status, str(message), code=data.get("code"), fields=_field_messages(data), headers=headers, **extra
        )
    title, text = ERROR_PAGES.get(status, (error.name, error.description))
    if data.get("message"):
        text = data["message"]
    response = render_template("errors/error.html", status=status, title=title, text=text), status
    return (*response, headers)


def handle_internal_error(error: InternalServerError):
    from app.extensions import db

    original = getattr(error, "original_exception", None)
    log.exception("Unhandled error on %s %s", request.method, request.path, exc_info=original or error)
    db.session.rollback()
    return handle_http_exception(InternalServerError())


def init_errors(app: Flask) -> None:
    # Registered after flask-smorest's Api, so this replaces its handler for every error.
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, handle_internal_error)
