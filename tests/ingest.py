"""Fixtures for the listener tests: registered devices, settings for a broker and a
telemetry store (InfluxDB or the embedded SQL store), listeners that clean up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from service.config import Settings, load_settings
from service.models import Device, Site, TelemetryPoint
from service.rules.devices import ensure_devices
from telemetry.listener import Listener
from telemetry.store import TelemetryStore
from telemetry.stores import store_from_settings
from tests.factories import World
from tests.services import InfluxDatabase, Mosquitto

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def devices(session: Session, world: World) -> list[tuple[str, str]]:
    """(site slug, device slug) of a device for every resource of the test world."""
    for site in world.sites.values():
        ensure_devices(session=session, site=site)
    session.commit()
    rows = session.exec(
        select(Site.slug, Device.slug).join(Site, col(Site.id) == Device.site_id)
    ).all()
    return [(site, device) for site, device in rows]


@pytest.fixture(params=["influx", "sql"])
def store_kind(request: pytest.FixtureRequest) -> str:
    """Which telemetry store the listener writes to."""
    return str(request.param)


@pytest.fixture
def ingest_settings(
    request: pytest.FixtureRequest, db_url: str, mosquitto: Mosquitto, store_kind: str
) -> Settings:
    overrides: dict[str, Any] = {
        "database": {"url": db_url},
        "mqtt": {"host": mosquitto.host, "port": mosquitto.port, "client_id": "test-listener"},
    }
    if store_kind == "influx":
        influxdb: InfluxDatabase = request.getfixturevalue("influxdb")
        tmp_path: Path = request.getfixturevalue("tmp_path")
        overrides["influxdb"] = {**influxdb.settings(), "spool_dir": str(tmp_path / "spool")}
    return load_settings(path=ROOT / "config.toml", environ={}, overrides=overrides)


class Listeners:
    """Start listeners (each with its own store); stop() stops them all."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings, self.engine = settings, engine
        self.running: list[tuple[Listener, TelemetryStore]] = []

    def start(self, *, connected: bool = True, **mqtt: Any) -> Listener:
        settings = self.settings.model_copy(
            update={"mqtt": self.settings.mqtt.model_copy(update=mqtt)}
        )
        store = store_from_settings(settings, self.engine)
        listener = Listener(settings, self.engine, store)
        listener.start()
        self.running.append((listener, store))
        if connected:
            assert listener.wait_connected(10), "listener did not connect"
        return listener

    def stop(self, listener: Listener) -> None:
        for entry in list(self.running):
            if entry[0] is listener:
                self.running.remove(entry)
                listener.stop()
                entry[1].close()

    def stop_all(self) -> None:
        for listener, _store in list(self.running):
            self.stop(listener)


@pytest.fixture
def listeners(ingest_settings: Settings, engine: Engine, devices: object) -> Iterator[Listeners]:
    running = Listeners(ingest_settings, engine)
    yield running
    running.stop_all()


@pytest.fixture
def stored(request: pytest.FixtureRequest, store_kind: str, engine: Engine) -> Callable[[], int]:
    """How many samples (points with the `seq` field) the telemetry store holds."""
    if store_kind == "influx":
        influxdb: InfluxDatabase = request.getfixturevalue("influxdb")
        return lambda: influxdb.count("seq")

    def count_sql() -> int:
        with Session(engine) as session:
            return int(
                session.exec(select(func.count()).where(col(TelemetryPoint.field) == "seq")).one()
            )

    return count_sql
