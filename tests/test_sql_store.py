"""The embedded telemetry store answers history and latest values like InfluxDB does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from telemetry.sqlstore import SqlTelemetryStore
from telemetry.store import HistoryQuery, Point

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


@pytest.fixture
def store(engine) -> SqlTelemetryStore:
    return SqlTelemetryStore(engine)


def point(seconds: float, resource: str = "laser-1", **fields) -> Point:
    return Point("seongsu", resource, "machine", T0 + timedelta(seconds=seconds), fields)


def test_raw_history_is_every_value_in_the_range_in_time_order(store):
    store.write([point(20, power_w=30.0), point(0, power_w=10.0), point(10, power_w=20.0)])
    store.write([point(60, power_w=99.0), point(5, resource="cnc-1", power_w=5.0)])
    history = store.history(
        HistoryQuery(
            site="seongsu",
            resource="laser-1",
            field="power_w",
            start=T0,
            end=T0 + timedelta(seconds=60),
            every=None,
        )
    )
    assert history == [
        (T0, 10.0),
        (T0 + timedelta(seconds=10), 20.0),
        (T0 + timedelta(seconds=20), 30.0),
    ]


def test_downsampling_gives_the_mean_per_epoch_aligned_bucket_and_skips_empty_ones(store):
    store.write([point(s, power_w=float(s)) for s in (0, 10, 20, 30, 40, 50, 200)])
    history = store.history(
        HistoryQuery(
            site="seongsu",
            resource="laser-1",
            field="power_w",
            start=T0 + timedelta(seconds=10),
            end=T0 + timedelta(minutes=5),
            every=timedelta(minutes=1),
        )
    )
    assert history == [(T0, 30.0), (T0 + timedelta(minutes=3), 200.0)]


def test_text_fields_downsample_to_the_last_value_of_each_bucket(store):
    store.write([point(0, state="idle"), point(20, state="running"), point(70, state="fault")])
    history = store.history(
        HistoryQuery(
            site="seongsu",
            resource="laser-1",
            field="state",
            start=T0,
            end=T0 + timedelta(minutes=2),
            every=timedelta(minutes=1),
        )
    )
    assert history == [(T0, "running"), (T0 + timedelta(minutes=1), "fault")]


def test_writing_the_same_point_again_overwrites_it(store):
    store.write([point(0, power_w=1.0), point(0, power_w=2.0)])
    store.write([point(0, power_w=3.0, state="idle")])
    history = store.history(
        HistoryQuery(
            site="seongsu",
            resource="laser-1",
            field="power_w",
            start=T0,
            end=T0 + timedelta(seconds=1),
            every=None,
        )
    )
    assert history == [(T0, 3.0)]


def test_latest_is_the_newest_value_of_every_field_and_the_newest_time(store):
    store.write(
        [
            point(0, power_w=100.0, state="idle", occupied=True),
            point(30, power_w=2000.0, temp_c=41),
            point(60, state="running"),
            point(90, resource="cnc-1", power_w=5.0),
        ]
    )
    assert store.latest(site="seongsu", resource="laser-1") == {
        "power_w": 2000.0,
        "temp_c": 41.0,
        "occupied": 1.0,
        "state": "running",
        "ts": T0 + timedelta(seconds=60),
    }
    assert store.latest(site="seongsu", resource="nothing") == {}


def test_many_points_are_written_in_one_call(store):
    store.write([point(s / 10, power_w=float(s)) for s in range(5000)])
    history = store.history(
        HistoryQuery(
            site="seongsu",
            resource="laser-1",
            field="power_w",
            start=T0,
            end=T0 + timedelta(hours=1),
            every=timedelta(hours=1),
        )
    )
    assert history == [(T0, pytest.approx(2499.5))]
    store.flush()
    store.close()
