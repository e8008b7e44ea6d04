"""The application factory."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask
from sqlalchemy import Engine
from werkzeug.exceptions import NotFound
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map, ValidationError

from telemetry.store import TelemetryStore

from . import db, input_guard, metrics, security_headers, telemetry_store, throttle
from .config import Settings, check_production, load_settings
from .models.types import MAX_ID


class IdConverter(IntegerConverter):
    """`<int:…>` path parts: a number past MAX_ID (2**31 - 1) names nothing, so it is a 404."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> int:
        # Not werkzeug's ValidationError: the router takes that for "no rule has this path"
        # and, when another method's rule has it, answers 405 to a DELETE or PATCH.
        try:
            return int(super().to_python(value))
        except ValidationError:
            raise NotFound() from None


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    *,
    store: TelemetryStore | None = None,
) -> Flask:
    """Build the web app; tests hand in their own settings and engine.

    `store` is a telemetry store the caller owns (e.g. the listener's, in one process); without
    it the app reads through a read-only store of its own (see `telemetry_store`).
    """
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config.update(
        SMARTFAB=settings,
        SECRET_KEY=settings.web.secret_key or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=settings.web.max_body_kib * 1024,
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    if hops := settings.web.proxy_hops:
        # The client's own address for the login limits and the audit log, not the proxy's.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.url_map.converters["int"] = IdConverter
    engine = engine or db.make_engine(settings.database.url)
    db.init_app(app, engine)
    telemetry_store.init_app(app, engine, store)

    from . import pages
    from .api import (
        admin_catalogue,
        admin_people,
        alerts,
        auth,
        billing,
        catalogue,
        errors,
        invoice_docs,
        maintenance,
        meta,
        plans,
        rental_contracts,
        reports,
        reservations,
        telemetry,
        usage,
    )

    errors.init_app(app)
    metrics.init_app(app)
    input_guard.init_app(app)
    for blueprint in (
        auth.bp,
        catalogue.bp,
        reservations.bp,
        telemetry.bp,
        maintenance.bp,
        alerts.bp,
        usage.bp,
        billing.bp,
        invoice_docs.bp,
        admin_catalogue.bp,
        admin_people.bp,
        plans.bp,
        reports.bp,
        rental_contracts.bp,
        meta.bp,
    ):
        app.register_blueprint(blueprint)
    pages.init_app(app)
    throttle.init_app(app)
    security_headers.init_app(app)
    return app


def wsgi(**overrides: Any) -> Flask:
    """Entry point for WSGI servers: `waitress-serve --call service.app:wsgi`."""
    settings = load_settings(overrides=overrides or None)
    check_production(settings)
    return create_app(settings)
