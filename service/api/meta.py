"""The OpenAPI document, its interactive docs, health and metrics."""

from __future__ import annotations

import socket

from flask import Blueprint, Response, current_app, jsonify, url_for

from ..db import check_database, get_session
from ..security_headers import DOCS_POLICY
from ..telemetry_store import get_store
from .openapi import openapi_document

bp = Blueprint("meta", __name__)

# Swagger UI 5, vendored under static/vendor/swagger-ui/: it reads OpenAPI 3.1.
DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>smartfab API</title>
<link rel="stylesheet" href="{css}">
<link rel="stylesheet" href="{contrast}"></head>
<body><main id="ui"></main>
<script src="{bundle}"></script>
<script src="/api/v1/docs/start.js"></script>
</body></html>"""
# In a file of its own: the Content-Security-Policy runs no inline script.
DOCS_START = 'SwaggerUIBundle({url: "/api/v1/openapi.json", dom_id: "#ui", validatorUrl: null});\n'


@bp.get("/api/v1/openapi.json")
def openapi_json() -> Response:
    return jsonify(openapi_document())


@bp.get("/api/v1/docs")
def docs() -> Response:
    page = DOCS_PAGE.format(
        css=url_for("static", filename="vendor/swagger-ui/swagger-ui.css"),
        contrast=url_for("static", filename="api-docs.css"),
        bundle=url_for("static", filename="vendor/swagger-ui/swagger-ui-bundle.js"),
    )
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = DOCS_POLICY
    return response


@bp.get("/api/v1/docs/start.js")
def docs_start() -> Response:
    return Response(DOCS_START, mimetype="text/javascript")


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Health of the database, the MQTT broker and InfluxDB (those configured)."""
    settings = current_app.config["SMARTFAB"]
    checks: dict[str, str] = {"database": _check_database()}
    if settings.mqtt.host:
        checks["mqtt"] = _check_tcp(settings.mqtt.host, settings.mqtt.port)
    ping = getattr(get_store(), "ping", None)
    if ping is not None:
        checks["influxdb"] = "ok" if ping() else "error: no answer"
    healthy = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ok" if healthy else "degraded", "checks": checks}), (
        200 if healthy else 503
    )


def _check_database() -> str:
    try:
        check_database(get_session())
    except Exception as exc:  # noqa: BLE001 - a health check reports, never raises
        return f"error: {type(exc).__name__}"
    return "ok"


def _check_tcp(host: str, port: int) -> str:
    try:
        with socket.create_connection((host, port), timeout=2):
            return "ok"
    except OSError as exc:
        return f"error: {exc.strerror or type(exc).__name__}"


@bp.get("/api/v1/ping")
def ping() -> Response:
    """A trivial endpoint: the benchmark's baseline for the server's own overhead."""
    return jsonify({"pong": True})
