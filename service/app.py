"""The application factory."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask
from sqlalchemy import Engine
from werkzeug.routing import IntegerConverter, Map

from . import db, metrics
from .config import Settings, load_settings
from .models.types import MAX_ID


class IdConverter(IntegerConverter):
    """`<int:…>` path parts: a number past 64 bits names nothing, so it is a 404."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> Flask:
    """Build the web app; tests hand in their own settings and engine."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config.update(
        SMARTFAB=settings,
        SECRET_KEY=settings.web.secret_key or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=settings.web.max_body_kib * 1024,
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.url_map.converters["int"] = IdConverter
    db.init_app(app, engine or db.make_engine(settings.database.url))

    from telemetry.stores import store_from_settings

    from . import pages
    from .api import auth, billing, catalogue, errors, meta, reservations, telemetry, usage

    errors.init_app(app)
    metrics.init_app(app)
    for blueprint in (
        auth.bp,
        catalogue.bp,
        reservations.bp,
        telemetry.bp,
        usage.bp,
        billing.bp,
        meta.bp,
    ):
        app.register_blueprint(blueprint)
    pages.init_app(app)
    app.extensions[telemetry.STORE_KEY] = store_from_settings(
        settings, app.extensions["smartfab.engine"]
    )
    return app


def wsgi(**overrides: Any) -> Flask:
    """Entry point for WSGI servers: `waitress-serve --call service.app:wsgi`."""
    return create_app(load_settings(overrides=overrides or None))
