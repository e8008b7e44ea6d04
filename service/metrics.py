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
        endpoint = request.endpoint or "unknown"
        requests_total.labels(endpoint, request.method, str(response.status_code)).inc()
        started = g.get("metrics_started")
        if started is not None:
            latency.labels(endpoint).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
