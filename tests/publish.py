"""Devices for the tests and benchmarks: publish telemetry over MQTT at QoS 1."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devices.contract import encode_telemetry, topic_for

# paho numbers unacknowledged messages with 16-bit ids; stay well below 65,535.
WINDOW = 20_000


def telemetry(
    devices: Sequence[tuple[str, str]], n: int, *, start: datetime, root: str = "smartfab"
) -> Iterator[tuple[str, bytes]]:
    """n samples round-robin over (site, device) pairs, each at its own millisecond."""
    topics = [topic_for(root, site, device, "telemetry") for site, device in devices]
    for i in range(n):
        payload = encode_telemetry(
            start + timedelta(milliseconds=i), "idle", {"power_w": 100.0 + i % 50, "seq": i}
        )
        yield topics[i % len(topics)], payload


class Publisher:
    """A paho client that publishes at QoS 1 and waits until the broker has it all."""

    def __init__(self, host: str, port: int, client_id: str = "test-devices") -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.client.max_inflight_messages_set(1000)
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()

    def publish(
        self,
        messages: Iterable[tuple[str, bytes]],
        *,
        timeout: float = 120.0,
        every: int = 0,
        on_progress: Callable[[int], None] | None = None,
    ) -> int:
        """Publish all; `on_progress(sent)` is called every `every` messages. Returns the count."""
        deadline = time.monotonic() + timeout
        pending: list[mqtt.MQTTMessageInfo] = []
        sent = 0
        for topic, payload in messages:
            if len(pending) >= WINDOW:
                pending[0].wait_for_publish(max(0.1, deadline - time.monotonic()))
                pending = [info for info in pending if not info.is_published()]
            info = self.client.publish(topic, payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
                raise RuntimeError(f"publish failed: {mqtt.error_string(info.rc)}")
            pending.append(info)
            sent += 1
            if every and on_progress is not None and sent % every == 0:
                on_progress(sent)
            if time.monotonic() > deadline:
                raise TimeoutError(f"published only {sent} messages in {timeout} s")
        for info in pending:
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            if not info.is_published():
                raise TimeoutError("the broker did not acknowledge every message")
        return sent

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.05) -> None:
    """Poll `condition` until it holds; AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        time.sleep(step)


def in_thread(target: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread
