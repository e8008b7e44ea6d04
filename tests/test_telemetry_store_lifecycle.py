"""Who owns the InfluxDB store: the web app reads through a read-only one of its own,
which starts no threads and is closed with the app; the listener's store writes and
replays what an outage left in the spool."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from service.app import create_app
from service.config import Settings, load_settings
from service.telemetry_store import close_store, get_store
from telemetry import lineproto
from telemetry.influx import InfluxTelemetryStore
from telemetry.spool import Spool
from telemetry.store import Point
from telemetry.stores import store_from_settings
from tests.conftest import ROOT
from tests.services import InfluxDatabase

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def samples(n: int, start: datetime = T0) -> list[Point]:
    return [
        Point("seongsu", "laser-1", "machine", start + timedelta(seconds=i), {"power_w": 1.0 * i})
        for i in range(n)
    ]


def thread_names() -> set[str]:
    """Running threads, less the InfluxDB test front's (one per open connection) and timers.

    Other apps' login limiters re-arm short expiry timers, each a new thread, at any time.
    """
    return {
        thread.name
        for thread in threading.enumerate()
        if not thread.name.endswith("(process_request_thread)")
        and not isinstance(thread, threading.Timer)
    }


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    """A spool holding 20 points that a listener could not write before it stopped."""
    Spool(tmp_path / "spool").put(lineproto.encode(samples(20)))
    return tmp_path / "spool"


@pytest.fixture
def influx_settings(db_url: str, influxdb: InfluxDatabase, spool_dir: Path) -> Settings:
    return load_settings(
        path=ROOT / "config.toml",
        environ={},
        overrides={
            "database": {"url": db_url},
            "influxdb": {**influxdb.settings(), "spool_dir": str(spool_dir)},
        },
    )


def test_a_web_app_on_influxdb_only_reads_and_starts_no_thread(
    influx_settings, engine, influxdb, spool_dir
):
    before = thread_names()
    app = create_app(influx_settings, engine)
    try:
        # Threads other tests left behind may end meanwhile; none may start.
        assert thread_names() - before == set()
        assert app.test_client().get("/healthz").json["checks"]["influxdb"] == "ok"
        with app.app_context():
            store = get_store()
            assert isinstance(store, InfluxTelemetryStore) and store.read_only
            assert store.latest(site="seongsu", resource="laser-1") == {}
            with pytest.raises(RuntimeError, match="read-only"):
                store.write(samples(1))
        assert thread_names() - before == set()
        # The spool is the listener's to replay.
        assert len(Spool(spool_dir)) == 1 and influxdb.count() == 0
    finally:
        close_store(app)
    close_store(app)  # a second close does nothing


def test_the_listeners_store_writes_and_replays_the_spool(
    influx_settings, engine, influxdb, spool_dir
):
    before = thread_names()
    store = store_from_settings(influx_settings, engine)
    try:
        assert "influx-replay" in thread_names() - before
        store.write(samples(5, start=T0 + timedelta(hours=1)))
        wait_until(lambda: len(Spool(spool_dir)) == 0)
        assert influxdb.count("power_w") == 25
    finally:
        store.close()
    assert "influx-replay" not in thread_names()


def test_the_app_leaves_a_store_it_was_handed_to_its_owner(influx_settings, engine, influxdb):
    store = store_from_settings(influx_settings, engine)
    try:
        app = create_app(influx_settings, engine, store=store)
        with app.app_context():
            assert get_store() is store
        close_store(app)
        store.write(samples(5, start=T0 + timedelta(hours=1)))
        wait_until(lambda: influxdb.count("power_w") == 25)
    finally:
        store.close()
