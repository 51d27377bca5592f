"""/api/v1/auth: create, list and revoke API tokens; who am I."""

from flask import abort
from flask_login import current_user

from app.api import api_blueprint
from app.auth import events, tokens
from app.auth.models import ApiToken
from app.auth.passwords import verify_password
from app.auth.permissions import require
from app.auth.queries import find_user_by_email
from app.auth.schemas import MeSchema, NewTokenSchema, TokenRequestSchema, TokenSchema
from app.auth.throttle import throttled
from app.common.errors import json_error
from app.extensions import db

bp = api_blueprint("auth", __name__, "Sign in for a bearer token; list and revoke your tokens.")


@bp.post("/tokens")
@throttled
@bp.arguments(TokenRequestSchema)
@bp.response(201, NewTokenSchema)
def create_token(args):
    """Exchange email and password for a bearer token (shown once)."""
    user = find_user_by_email(args["email"])
    if not (user and user.is_active and verify_password(user.password_hash, args["password"])):
        events.record_login_failed(args["email"])
        return json_error(401, "Wrong email or password, or the account is not active.")
    days = args["days"] if args["days"] is not None else None
    row, plain = tokens.create_token(user, args["name"], days=days)
    db.session.commit()
    return {name: getattr(row, name) for name in TokenSchema().fields} | {"token": plain}


@bp.get("/tokens")
@require("token.manage_own")
@bp.response(200, TokenSchema(many=True))
def list_tokens():
    """Your tokens (never their secret)."""
    return tokens.list_tokens(current_user)


@bp.delete("/tokens/<int:token_id>")
@require("token.manage_own")
@bp.response(204)
def revoke_token(token_id: int):
    """Revoke one of your tokens; it answers 401 from then on."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    tokens.revoke_token(token)
    db.session.commit()


@bp.get("/me")
@require("token.manage_own")
@bp.response(200, MeSchema)
def me():
    """The user the token belongs to."""
    return current_user
