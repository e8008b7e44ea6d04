"""The web app's telemetry store: chosen by the settings, read by the API, closed at the end.

A web worker only queries telemetry, so the store the app builds for itself is read-only:
on InfluxDB it starts no write pipeline and no spool replay (the listener does those).
"""

from __future__ import annotations

import atexit
import weakref
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import Engine

from telemetry.store import TelemetryStore
from telemetry.stores import store_from_settings

STORE_KEY = "smartfab.telemetry"
# The app's own store is closed by this function: at process exit or by close_store().
_CLOSER_KEY = "smartfab.telemetry.closer"


def init_app(app: Flask, engine: Engine, store: TelemetryStore | None = None) -> None:
    """Give `app` a telemetry store: `store` if handed in (its owner closes it), else a
    read-only one from the app's settings, closed at process exit or by `close_store`."""
    if store is not None:
        app.extensions[STORE_KEY] = store
        return
    own = store_from_settings(app.config["SMARTFAB"], engine, read_only=True)
    closer = _closer(own)
    atexit.register(closer)
    app.extensions[STORE_KEY] = own
    app.extensions[_CLOSER_KEY] = closer


def get_store() -> TelemetryStore:
    """The current app's telemetry store."""
    store: TelemetryStore = current_app.extensions[STORE_KEY]
    return store


def close_store(app: Flask) -> None:
    """Close the store `app` built for itself now rather than at exit (a store handed in
    is left to its owner); calling it again does nothing."""
    closer = app.extensions.pop(_CLOSER_KEY, None)
    if closer is not None:
        atexit.unregister(closer)
        closer()


def _closer(store: TelemetryStore) -> Callable[[], None]:
    # A weak reference: an app dropped without close_store (a test's) may go, store and all.
    ref = weakref.ref(store)

    def close() -> None:
        alive = ref()
        if alive is not None:
            alive.close()

    return close
