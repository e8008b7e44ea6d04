"""The OpenAPI document is generated from the schemas that validate requests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from openapi_spec_validator import OpenAPIV31SpecValidator

from service.models import ReservationCreate


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, ref
        node = node[part]
    return node


def test_openapi_document_is_valid_openapi_3_1(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"] == "3.1.0"
    errors = [error.message for error in OpenAPIV31SpecValidator(doc).iter_errors()]
    assert errors == []


def test_every_reference_in_the_openapi_document_resolves_within_it(client):
    doc = client.get("/api/v1/openapi.json").json
    refs = set(_refs(doc))
    assert "#/components/schemas/ReservationCreate" in refs
    assert not [ref for ref in refs if not ref.startswith("#/components/schemas/")]
    for ref in refs:
        _resolve(doc, ref)


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
            "invoice_docs",
            "maintenance",
            "plans",
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
    for asset_path in (
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/swagger-ui.css",
        "/api/v1/docs/start.js",
    ):
        asset = client.get(asset_path)
        assert asset.status_code == 200, asset_path
        asset.close()
    bundle = client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    # Swagger UI 5 and later read OpenAPI 3.1; version 4 stopped at 3.0.
    assert b"isOAS31" in bundle.data
    bundle.close()


def test_other_successful_answers_are_documented(client):
    doc = client.get("/api/v1/openapi.json").json
    issue = doc["paths"]["/api/v1/invoices/issue"]["post"]["responses"]
    assert {"200", "201"} <= set(issue)
    report = doc["paths"]["/api/v1/reports/utilisation"]["get"]["responses"]["200"]
    assert set(report["content"]) == {"application/json", "text/csv"}
    one = doc["paths"]["/api/v1/reservations/{reservation_id}"]["delete"]["parameters"][0]
    assert one["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
