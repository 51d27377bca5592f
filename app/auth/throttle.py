"""Login throttling: failed sign-ins are limited per address and per account-and-address.

Only failures count, and the account limit is keyed with the address too, so an
attacker hammering one account from one place gets 429 while the real user,
signing in from somewhere else, still gets in (no lock-out by a stranger).
"""

from flask import current_app, request

from app.extensions import limiter


def _failures_per_minute() -> str:
    return f"{current_app.config['LOGIN_FAILURES_PER_MINUTE']} per minute"


def _email_from_request() -> str:
    body = (request.get_json(silent=True) or {}) if request.is_json else request.form
    email = body.get("email", "") if hasattr(body, "get") else ""
    return str(email).strip().lower()[:254]


def _address() -> str:
    return request.remote_addr or "unknown"


def _account_and_address() -> str:
    return f"{_email_from_request()}|{_address()}"


def _failed(response) -> bool:
    # A failed form sign-in re-renders with 200; a failed token request answers 401.
    return response.status_code in (200, 401) and request.method == "POST"


def throttled(view):
    """Apply both failure limits to a sign-in view (the page and the token endpoint)."""
    view = limiter.limit(_failures_per_minute, key_func=_account_and_address, deduct_when=_failed,
                         methods=["POST"], scope="login-account")(view)
    view = limiter.limit(_failures_per_minute, key_func=_address, deduct_when=_failed,
                         methods=["POST"], scope="login-address")(view)
    return view
