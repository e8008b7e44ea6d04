"""Prometheus metrics: request counts and latencies per endpoint."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

# Label values come only from fixed sets, so no request can add a time series of its own.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _labels() -> tuple[str, str]:
    """The request's route (its endpoint, or "unmatched") and method (or "other")."""
    route = request.endpoint if request.url_rule is not None and request.endpoint else "unmatched"
    method = request.method if request.method in METHODS else "other"
    return route, method


def init_app(app: Flask) -> None:
    """Count every request; serve the registry at /metrics."""
    registry = CollectorRegistry()
    requests_total = Counter(
        "smartfab_http_requests",
        "HTTP requests",
        ["endpoint", "method", "status"],
        registry=registry,
    )
    latency = Histogram(
        "smartfab_http_request_seconds", "HTTP request latency", ["endpoint"], registry=registry
    )
    app.extensions["smartfab.metrics"] = registry

    @app.before_request
    def _start() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        endpoint, method = _labels()
        requests_total.labels(endpoint, method, str(response.status_code)).inc()
        started = g.get("metrics_started")
        if started is not None:
            latency.labels(endpoint).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
