"""Prometheus metrics: request counts and latencies per endpoint.

Under `smartfab web` every gunicorn worker is its own process with its own counts. The
server then names a directory in PROMETHEUS_MULTIPROC_DIR before the workers fork;
each worker keeps its values in files there, and /metrics, whichever worker answers,
adds up the files of all of them (prometheus-client's multiprocess mode). Without that
variable (tests, waitress in `run` and `demo`) one process keeps its counts in memory.
A gauge added here needs a `multiprocess_mode` saying how workers' values combine.
"""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
# Label values come only from fixed sets, so no request can add a time series of its own.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _labels() -> tuple[str, str]:
    """The request's route (its endpoint, or "unmatched") and method (or "other")."""
    route = request.endpoint if request.url_rule is not None and request.endpoint else "unmatched"
    method = request.method if request.method in METHODS else "other"
    return route, method


def _shared_directory() -> str | None:
    """The directory the workers of one server share their counts in, if there is one."""
    directory = os.environ.get(MULTIPROC_DIR) or None
    if directory and values.ValueClass is values.MutexValue:
        # prometheus-client chooses where values live when it is first imported, which
        # may be before the server named the directory: choose again, before any metric.
        values.ValueClass = values.get_value_class()
    return directory


def init_app(app: Flask) -> None:
    """Count every request; serve the counts at /metrics."""
    directory = _shared_directory()
    registry = CollectorRegistry()
    # Shared values are read back from the files, never from this process's registry.
    own = None if directory else registry
    requests_total = Counter(
        "smartfab_http_requests", "HTTP requests", ["endpoint", "method", "status"], registry=own
    )
    latency = Histogram(
        "smartfab_http_request_seconds", "HTTP request latency", ["endpoint"], registry=own
    )
    if directory:
        MultiProcessCollector(registry, path=directory)
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
