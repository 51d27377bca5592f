"""CSRF checks, security headers on every response, no caching of pages with personal data."""

from urllib.parse import urlsplit

from flask import Flask, current_app, g, request
from flask_login import current_user

from app.extensions import csrf

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def set_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(self), microphone=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # Records are confidential evidence: a shared tablet's back button or a proxy
    # must not show them to the next person. A view may still choose "private"
    # (photos), which no shared cache keeps.
    is_static = request.endpoint == "static"
    kept_private = "private" in (headers.get("Cache-Control") or "")
    if not is_static and not kept_private and (current_user.is_authenticated or request.authorization):
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


def check_csrf():
    """CSRF on every state change, except API calls authenticated by a bearer token.

    A bearer token is not sent by browsers on their own, so it cannot be forged
    cross-site; a session cookie can, so API calls made with one need the token too.
    """
    if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
        return
    if request.path.startswith("/api/") and (g.get("api_token") is not None or not current_user.is_authenticated):
        # Bearer calls, and anonymous API calls (which can only ask for a token and
        # read nothing of a victim's), have no cookie-held identity to forge.
        return
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "form_checks_csrf", False):
        return
    csrf.protect()


def form_checks_csrf(view):
    """Let the view's FlaskForm check the CSRF token instead of refusing the request up front.

    The form then fails validation on an expired token and is shown again with what
    was typed and a fresh token: a tablet form left open all shift loses nothing.
    The view must write nothing unless its form validates.
    """
    view.form_checks_csrf = True
    return view


def is_local_path(target: str | None) -> bool:
    """A path of this site, safe to redirect to after a form (never another host).

    Refused: other hosts ("//host", "https://host"), and backslashes and control characters,
    which browsers read as slashes or drop ("/\\host", "/\\t/host" lead elsewhere).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    parts = urlsplit(target)
    return (not parts.scheme and not parts.netloc and "\\" not in target
            and all(ord(c) > 32 and ord(c) != 127 for c in target))


def init_security(app: Flask) -> None:
    app.before_request(check_csrf)
    app.after_request(set_security_headers)
