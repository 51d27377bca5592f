"""JSON shapes of the auth endpoints."""

from marshmallow import Schema, fields, validate


class TokenRequestSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=200))
    name = fields.String(load_default="api", validate=validate.Length(min=1, max=100))
    days = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1, max=3650))


class TokenSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String()
    prefix = fields.String()
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime(allow_none=True)
    last_used_at = fields.AwareDateTime(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)


class NewTokenSchema(TokenSchema):
    token = fields.String(metadata={"description": "Shown once; send it as 'Authorization: Bearer <token>'."})


class MeSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    facility_ids = fields.Method("_facility_ids")

    def _facility_ids(self, user):
        return [f.id for f in user.facilities]
