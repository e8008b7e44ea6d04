"""The telemetry store chosen by configuration."""

from __future__ import annotations

from sqlalchemy import Engine

from service.config import Settings

from .sqlstore import SqlTelemetryStore
from .store import TelemetryStore


def store_from_settings(settings: Settings, engine: Engine) -> TelemetryStore:
    """InfluxDB when [influxdb] url is set, else the embedded SQL store on `engine`."""
    if settings.influxdb.url:
        from .influx import InfluxTelemetryStore

        return InfluxTelemetryStore(settings.influxdb, settings.influxdb.spool_dir)
    return SqlTelemetryStore(engine)
