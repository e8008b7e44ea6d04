"""InfluxDB away for 30 s while devices keep sending: spooled, replayed, nothing lost."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from telemetry.influx import InfluxTelemetryStore
from tests.ingest import Listeners
from tests.publish import Publisher, in_thread, telemetry, wait_for
from tests.services import InfluxDatabase, Mosquitto

RATE = 250  # messages per second, for OUTAGE + margins
OUTAGE = 30.0


@pytest.mark.parametrize(("db_url", "store_kind"), [("sqlite", "influx")], indirect=True)
def test_an_influxdb_outage_is_bridged_by_the_spool(
    listeners: Listeners,
    mosquitto: Mosquitto,
    influxdb: InfluxDatabase,
    devices: list[tuple[str, str]],
    stored: Callable[[], int],
) -> None:
    listener = listeners.start()
    store = listeners.running[0][1]
    assert isinstance(store, InfluxTelemetryStore)
    total = int(RATE * (OUTAGE + 4))
    samples = list(telemetry(devices, total, start=datetime.now(UTC) - timedelta(minutes=2)))
    publisher = Publisher(mosquitto.host, mosquitto.port)
    began = time.monotonic()

    def paced() -> None:
        for i in range(0, total, RATE // 10):
            publisher.publish(samples[i : i + RATE // 10])
            time.sleep(max(0.0, began + i / RATE - time.monotonic()))

    sending = in_thread(paced)
    wait_for(lambda: stored() >= RATE, timeout=10)
    influxdb.front.fail(503)
    time.sleep(OUTAGE / 2)
    influxdb.front.refuse()
    refused_at = listener.stats.acked
    time.sleep(OUTAGE / 2)
    # Messages kept flowing and being acknowledged while InfluxDB was away.
    assert listener.stats.acked > refused_at > RATE * 2
    assert len(store.spool) > 0
    influxdb.front.heal()
    sending.join(timeout=30)
    publisher.close()
    wait_for(lambda: stored() == total, timeout=30, step=0.2)
    wait_for(lambda: len(store.spool) == 0, timeout=10)
    assert store.counters["spooled"] > 0
    assert store.counters["replayed"] == store.counters["spooled"]
    assert store.counters["retries"] > 0
    assert listener.stats.acked == total
