"""The telemetry store chosen by configuration."""

from __future__ import annotations

from sqlalchemy import Engine

from service.config import Settings

from .sqlstore import SqlTelemetryStore
from .store import TelemetryStore


def store_from_settings(
    settings: Settings, engine: Engine, *, read_only: bool = False
) -> TelemetryStore:
    """InfluxDB when [influxdb] url is set, else the embedded SQL store on `engine`.

    A read-only store (the web app's) only queries: on InfluxDB it starts no writer
    and leaves the spool to the listener that wrote it.
    """
    if settings.influxdb.url:
        from .influx import InfluxTelemetryStore

        return InfluxTelemetryStore(
            settings.influxdb, settings.influxdb.spool_dir, read_only=read_only
        )
    return SqlTelemetryStore(engine)
