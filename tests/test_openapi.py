"""The OpenAPI document is generated from the schemas that validate requests."""

from __future__ import annotations

from service.models import ReservationCreate


def test_openapi_document_describes_every_api_route(client, app):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    api_rules = {
        (r.rule, m.lower())
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/v1/")
        and r.endpoint.split(".")[0]
        in (
            "admin_catalogue",
            "admin_people",
            "alerts",
            "auth",
            "billing",
            "catalogue",
            "maintenance",
            "rental_contracts",
            "reports",
            "reservations",
            "telemetry",
            "usage",
        )
        for m in r.methods - {"HEAD", "OPTIONS"}
    }
    documented = {
        (path.replace("{", "<int:").replace("}", ">") if "_id}" in path else path, method)
        for path, ops in doc["paths"].items()
        for method in ops
    }
    assert api_rules == documented


def test_reservation_schema_is_the_validating_model(client):
    doc = client.get("/api/v1/openapi.json").json
    op = doc["paths"]["/api/v1/reservations"]["post"]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    names = {f.alias or name for name, f in ReservationCreate.model_fields.items()}
    assert set(schema["properties"]) == names
    assert schema.get("additionalProperties") is False
    assert {"401", "409", "422"} <= set(op["responses"])


def test_interactive_docs_are_served_from_vendored_assets(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert b"swagger-ui-bundle.js" in page.data
    assert b"http" not in page.data.split(b"<body>")[1].replace(b"/api/v1", b"")
    asset = client.get("/api/v1/docs/static/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert b"SwaggerUIBundle" in asset.data
    asset.close()
