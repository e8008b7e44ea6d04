"""The devices of the ingest benchmark: N samples like a busy floor's, published at QoS 1
from two processes."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt

from devices.client import make_client

# Samples per running or idle phase: a sample every 5 s, jobs of about 20 minutes.
PHASE = 240


def messages(
    devices: Sequence[tuple[str, str]], n: int, start: datetime, part: int, parts: int, root: str
) -> Iterator[tuple[str, bytes]]:
    """Samples like a busy floor's: running or idle in long phases, power and energy."""
    from devices.contract import encode_telemetry, topic_for

    topics = [topic_for(root, site, device, "telemetry") for site, device in devices]
    for i in range(part, n, parts):
        d = i % len(devices)
        step = i // len(devices)
        running = (step // PHASE + d) % 3 != 0
        power = 1800.0 + (d % 7) * 150 if running else 35.0
        payload = encode_telemetry(
            start + timedelta(milliseconds=i),
            "running" if running else "idle",
            {"power_w": power, "energy_wh": round(step * power / 3600, 3), "seq": i},
        )
        yield topics[d], payload


def publish_part(
    host: str,
    port: int,
    devices: list[tuple[str, str]],
    n: int,
    start: float,
    part: int,
    parts: int,
    root: str,
) -> int:
    client = make_client(f"bench-devices-{part}")
    client.max_inflight_messages_set(1000)
    client.connect(host, port, keepalive=60)
    client.loop_start()
    pending: list[mqtt.MQTTMessageInfo] = []
    sent = 0
    at = datetime.fromtimestamp(start, UTC)
    for topic, payload in messages(devices, n, at, part, parts, root):
        if len(pending) >= 20_000:
            pending[0].wait_for_publish(60)
            pending = [info for info in pending if not info.is_published()]
        pending.append(client.publish(topic, payload, qos=1))
        sent += 1
    for info in pending:
        info.wait_for_publish(120)
    client.disconnect()
    client.loop_stop()
    return sent


def publish(
    host: str, port: int, devices: list[tuple[str, str]], n: int, start: datetime, root: str
) -> float:
    """Publish n messages under `root` from 2 processes; returns the publishing rate."""
    began = time.monotonic()
    parts = 2
    with multiprocessing.get_context("spawn").Pool(parts) as pool:
        sent = sum(
            pool.starmap(
                publish_part,
                [(host, port, devices, n, start.timestamp(), p, parts, root) for p in range(parts)],
            )
        )
    assert sent == n
    return n / (time.monotonic() - began)
