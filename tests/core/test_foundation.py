"""The base every domain stands on: health, errors in both forms, the API envelope."""

import sqlalchemy as sa

from app.auth.models import Facility
from tests import factories


def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_unknown_page_is_an_html_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Not found" in response.get_data(as_text=True)


def test_wrong_method_on_api_is_405_with_allow_header(client):
    response = client.delete("/api/v1/species")
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_openapi_document_is_openapi_3(client):
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    validate(document)  # raises on any violation of the OpenAPI 3 schema
    assert "/api/v1/species" in document["paths"]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_rollback_isolation_part_one_writes(db):
    factories.FacilityFactory(code="ISOLATED")
    db.session.commit()  # released savepoint only: the outer transaction is rolled back
    assert db.session.execute(sa.select(Facility).where(Facility.code == "ISOLATED")).scalar_one()


def test_rollback_isolation_part_two_sees_nothing(db):
    assert db.session.execute(sa.select(Facility).where(Facility.code == "ISOLATED")).first() is None
