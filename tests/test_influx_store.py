"""The InfluxDB telemetry store against a real influxd (1.6 behind the v2-write front)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from influxdb_client import WriteOptions
from reactivex.scheduler import ThreadPoolScheduler

from service.config import InfluxSettings
from telemetry.influx import InfluxTelemetryStore
from telemetry.store import HistoryQuery, Point
from tests.services import InfluxDatabase

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def quick_retries() -> WriteOptions:
    """Give up after ~0.3 s so outage tests stay short."""
    return WriteOptions(
        batch_size=1,
        retry_interval=100,
        max_retries=2,
        max_retry_delay=200,
        max_retry_time=2_000,
        max_close_wait=10_000,
        write_scheduler=ThreadPoolScheduler(max_workers=1),
    )


@pytest.fixture
def make_store(
    influxdb: InfluxDatabase, tmp_path: Path
) -> Iterator[Callable[..., InfluxTelemetryStore]]:
    stores: list[InfluxTelemetryStore] = []

    def make(**kwargs: object) -> InfluxTelemetryStore:
        settings = InfluxSettings(**influxdb.settings())
        kwargs.setdefault("replay_every", 0.1)
        store = InfluxTelemetryStore(settings, tmp_path / "spool", **kwargs)  # type: ignore[arg-type]
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


def samples(n: int, *, resource: str = "laser-1", start: datetime = T0) -> list[Point]:
    return [
        Point("seongsu", resource, "machine", start + timedelta(seconds=i), {"power_w": 100.0 + i})
        for i in range(n)
    ]


def test_written_points_are_queryable_as_soon_as_write_returns(
    make_store: Callable[..., InfluxTelemetryStore], influxdb: InfluxDatabase
) -> None:
    store = make_store()
    store.write(samples(500))
    assert influxdb.count("power_w") == 500
    assert store.counters["written"] == 500


def test_history_returns_raw_values_and_means_per_bucket(
    make_store: Callable[..., InfluxTelemetryStore],
) -> None:
    store = make_store()
    store.write(samples(120))
    store.write(samples(120, resource="cnc-1"))
    raw = store.history(
        HistoryQuery(
            site="seongsu",
            resource="laser-1",
            field="power_w",
            start=T0,
            end=T0 + timedelta(seconds=3),
            every=None,
        )
    )
    assert raw == [
        (T0, 100.0),
        (T0 + timedelta(seconds=1), 101.0),
        (T0 + timedelta(seconds=2), 102.0),
    ]
    means = store.history(
        HistoryQuery(
            site="seongsu",
            resource="laser-1",
            field="power_w",
            start=T0,
            end=T0 + timedelta(minutes=2),
            every=timedelta(minutes=1),
        )
    )
    assert means == [(T0, 129.5), (T0 + timedelta(minutes=1), 189.5)]


def test_state_is_a_text_field_whose_bucket_value_is_the_last_one(
    make_store: Callable[..., InfluxTelemetryStore],
) -> None:
    store = make_store()
    states = ["idle", "running", "running", "fault"]
    store.write(
        [
            Point("seongsu", "laser-1", "machine", T0 + timedelta(seconds=i), {"state": s})
            for i, s in enumerate(states)
        ]
    )
    got = store.history(
        HistoryQuery(
            site="seongsu",
            resource="laser-1",
            field="state",
            start=T0,
            end=T0 + timedelta(minutes=1),
            every=timedelta(minutes=1),
        )
    )
    assert got == [(T0, "fault")]


def test_latest_has_the_newest_value_of_every_field_and_its_time(
    make_store: Callable[..., InfluxTelemetryStore],
) -> None:
    store = make_store()
    store.write(
        [
            Point("seongsu", "laser-1", "machine", T0, {"power_w": 10.0, "state": "idle"}),
            Point("seongsu", "laser-1", "machine", T0 + timedelta(seconds=5), {"power_w": 900}),
            Point("seongsu", "cnc-1", "machine", T0 + timedelta(seconds=9), {"power_w": 5.0}),
        ]
    )
    assert store.latest(site="seongsu", resource="laser-1") == {
        "power_w": 900.0,
        "state": "idle",
        "ts": T0 + timedelta(seconds=5),
    }
    assert store.latest(site="seongsu", resource="nothing") == {}


def test_tags_and_text_with_special_characters_round_trip(
    make_store: Callable[..., InfluxTelemetryStore],
) -> None:
    store = make_store()
    site, resource, text = "site, one=1", 'room "A"=2', 'say "hi", \\ bye'
    store.write([Point(site, resource, "room", T0, {"note": text, "co2 ppm": 415.0})])
    assert store.latest(site=site, resource=resource) == {"note": text, "co2 ppm": 415.0, "ts": T0}


def test_a_short_spell_of_429_is_bridged_by_the_client_retries(
    make_store: Callable[..., InfluxTelemetryStore], influxdb: InfluxDatabase
) -> None:
    options = WriteOptions(
        batch_size=1,
        retry_interval=200,
        max_retries=5,
        max_retry_delay=400,
        max_retry_time=5_000,
        write_scheduler=ThreadPoolScheduler(max_workers=1),
    )
    store = make_store(write_options=options)
    influxdb.front.fail(429)
    healer = threading.Timer(0.3, influxdb.front.heal)
    healer.start()
    store.write(samples(100))
    healer.join()
    assert store.counters["retries"] >= 1
    assert store.counters["written"] == 100 and store.counters["spooled"] == 0
    assert influxdb.front.failed_writes >= 1
    assert influxdb.count("power_w") == 100


def test_an_outage_spools_batches_and_replays_them_when_influxdb_answers(
    make_store: Callable[..., InfluxTelemetryStore], influxdb: InfluxDatabase
) -> None:
    store = make_store(write_options=quick_retries())
    influxdb.front.fail(503)
    store.write(samples(100))
    assert store.counters["retries"] >= 1
    influxdb.front.refuse()
    store.write(samples(100, start=T0 + timedelta(hours=1)))
    assert len(store.spool) == 2
    assert influxdb.count() == 0
    influxdb.front.heal()
    wait_until(lambda: len(store.spool) == 0)
    assert influxdb.count("power_w") == 200
    assert store.counters["spooled"] == store.counters["replayed"] == 200
    store.write(samples(10, start=T0 + timedelta(hours=2)))
    assert store.counters["written"] == 10
    assert influxdb.count("power_w") == 210


def test_a_spool_left_by_a_stopped_store_is_replayed_by_the_next(
    make_store: Callable[..., InfluxTelemetryStore], influxdb: InfluxDatabase
) -> None:
    first = make_store(write_options=quick_retries())
    influxdb.front.refuse()
    first.write(samples(50))
    first.close()
    influxdb.front.heal()
    second = make_store()
    wait_until(lambda: len(second.spool) == 0)
    assert influxdb.count("power_w") == 50


def test_a_batch_influxdb_refuses_as_malformed_is_kept_aside_not_retried(
    make_store: Callable[..., InfluxTelemetryStore], influxdb: InfluxDatabase
) -> None:
    store = make_store()
    store.write(samples(3))
    store.write([Point("seongsu", "laser-1", "machine", T0, {"power_w": "high"})])
    assert len(store.spool) == 0
    kept = list(store.spool.rejected_dir.glob("*.lp"))
    assert len(kept) == 1 and b"high" in kept[0].read_bytes()
    assert store.counters["rejected"] == 1
    store.write(samples(5, start=T0 + timedelta(minutes=5)))
    assert influxdb.count("power_w") == 8


@pytest.mark.parametrize("batch_size", [1, 8])
def test_concurrent_writers_are_all_durable_when_close_returns(
    make_store: Callable[..., InfluxTelemetryStore], influxdb: InfluxDatabase, batch_size: int
) -> None:
    # With batch_size > 1 the WriteApi merges writes of several threads into one batch.
    options = WriteOptions(
        batch_size=batch_size, flush_interval=20, write_scheduler=ThreadPoolScheduler(1)
    )
    store = make_store(write_options=options)

    def writer(k: int) -> None:
        for j in range(10):
            store.write(samples(100, resource=f"m{k}", start=T0 + timedelta(hours=j)))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    store.close()
    assert influxdb.count("power_w") == 4000
