"""The /api/v1 JSON API: flask-smorest setup, bearer-token authentication, list envelopes."""

from contextlib import contextmanager

from flask import Flask, g, jsonify, request
from flask_smorest import Api, abort
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import Schema, fields, validate

from app.common.errors import RuleError, json_error

API_PREFIX = "/api/v1"

api = Api()


class PageArgs(Schema):
    """?page=&per_page= on every list endpoint (per_page at most 200). Query strings are text, so not strict."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class PageMeta(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


_list_schemas: dict[type, type] = {}


def list_schema(item_schema: type[Schema]) -> type[Schema]:
    """The {"items": [...], "meta": {...}} envelope around item_schema (one class per item schema)."""
    if item_schema not in _list_schemas:
        name = item_schema.__name__.removesuffix("Schema") + "List"
        _list_schemas[item_schema] = Schema.from_dict(
            {"items": fields.List(fields.Nested(item_schema)), "meta": fields.Nested(PageMeta)},
            name=name,
        )
    return _list_schemas[item_schema]


def patch_schema(schema_cls: type[Schema], *, exclude: tuple[str, ...] = ()) -> Schema:
    """The PATCH body for schema_cls: every field optional, no defaults, `version` required.

    The version is the one the client read; a stale one is answered 409 (API.md).
    """
    name = schema_cls.__name__.removesuffix("Schema") + "PatchSchema"
    patch_cls = type(name, (schema_cls,), {"version": fields.Integer(required=True, strict=True)})
    optional = tuple(n for n in patch_cls._declared_fields if n != "version")
    return patch_cls(partial=optional, exclude=exclude)


def committed(body: dict, status: int = 201):
    """Commit and answer with a body dumped before the commit.

    The commit expires the records; reading them back to dump them would cost a query
    per record (flask-smorest passes a returned Response through).
    """
    from app.extensions import db

    db.session.commit()
    return jsonify(body), status


@contextmanager
def refused_as_422():
    """Answer a service's RuleError with 422 and its field messages; nothing was stored."""
    try:
        yield
    except RuleError as error:
        message = "Some rows are invalid; nothing was stored." if error.rows else "The request has invalid fields."
        abort(422, message=message, errors={"json": error.api_fields()})


def check_version(record, version: int, schema: Schema) -> None:
    """Refuse an edit made on a stale read: 409 with the current record in error.current."""
    if record.version != version:
        abort(409, message="This record was changed by someone else since you read it.",
              current=schema.dump(record))


def api_blueprint(name: str, import_name: str, description: str) -> SmorestBlueprint:
    """A flask-smorest blueprint for one domain's part of the API."""
    return SmorestBlueprint(f"api_{name}", import_name, description=description)


# Every domain's API blueprint and its URL prefix under /api/v1, in one table.
def _api_blueprints():
    from app.alerts.api import alerts_bp, job_runs_bp
    from app.animals.api import animals_bp, cases_bp
    from app.animals.api_attachments import bp as attachments_bp
    from app.auth.api import bp as auth_bp
    from app.care.api import records_bp as care_records_bp
    from app.care.api import schedules_bp as care_schedules_bp
    from app.care.api import tasks_bp
    from app.reference.api import enclosures_bp, facilities_bp, species_bp
    from app.releases.api import animal_release_bp, criteria_bp, sites_bp
    from app.releases.api_plans import plans_bp
    from app.vet.api import animal_records_bp as vet_records_bp
    from app.vet.api import prescriptions_bp, problems_bp

    return [
        (auth_bp, "/auth"),
        (facilities_bp, "/facilities"),
        (enclosures_bp, "/enclosures"),
        (species_bp, "/species"),
        (cases_bp, "/cases"),
        (animals_bp, "/animals"),
        (attachments_bp, ""),  # /animals/<id>/photos and /cases/<id>/photos
        (care_schedules_bp, "/care-schedules"),
        (tasks_bp, "/tasks"),
        (care_records_bp, ""),  # /animals/<id>/care-logs and /animals/<id>/weights
        (vet_records_bp, ""),  # /animals/<id>/exams, problems, prescriptions, lab-results, quarantine-clearance
        (problems_bp, "/problems"),
        (prescriptions_bp, "/prescriptions"),
        (criteria_bp, "/release-criteria"),
        (sites_bp, "/release-sites"),
        (plans_bp, "/release-plans"),
        (animal_release_bp, ""),  # /animals/<id>/readiness, assessments, outcomes, observations, transfers
        (alerts_bp, "/alerts"),
        (job_runs_bp, "/job-runs"),
    ]


def _authenticate_bearer():
    """Resolve `Authorization: Bearer <token>` before any /api/ view runs.

    A request with a bearer token is CSRF-exempt (common.security); one without
    uses the session cookie and must carry a CSRF token on unsafe methods.
    """
    if not request.path.startswith(API_PREFIX + "/"):
        return None
    from app.auth.tokens import authenticate_bearer

    header = request.headers.get("Authorization", "")
    g.api_token = None
    if header:
        challenge = [("WWW-Authenticate", "Bearer")]
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return json_error(401, "Use 'Authorization: Bearer <token>'.", headers=challenge)
        if not authenticate_bearer(token.strip()):
            return json_error(401, "The token is invalid, expired or revoked.", headers=challenge)
    return None


def init_api(app: Flask) -> None:
    bearer = {"type": "http", "scheme": "bearer"}
    api.init_app(app, spec_kwargs={"components": {"securitySchemes": {"bearer": bearer}},
                                   "security": [{"bearer": []}]})
    for blueprint, prefix in _api_blueprints():
        api.register_blueprint(blueprint, url_prefix=API_PREFIX + prefix)
    app.before_request(_authenticate_bearer)
