"""Paho clients that log in, for tests of what the broker lets each account do."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from devices.broker import EmbeddedBroker
from tests.services import Mosquitto

NOT_AUTHORISED = 0x87
_counter = iter(range(1_000_000))


class Refused(Exception):
    """The broker refused the connection; `reason` is its CONNACK reason code."""

    def __init__(self, reason: ReasonCode) -> None:
        super().__init__(str(reason))
        self.reason = reason


@dataclass
class Account:
    """A connected MQTT v5 client that records what it receives and how the broker answered."""

    client: mqtt.Client
    received: list[tuple[str, bytes]] = field(default_factory=list)
    pubacks: dict[int, int] = field(default_factory=dict)
    subacks: dict[int, list[int]] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def publish(self, topic: str, payload: bytes = b"{}", *, retain: bool = False) -> int:
        """Publish at QoS 1 and return the PUBACK reason code."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        return self._wait(lambda: self.pubacks.get(info.mid))

    def subscribe(self, topic: str) -> int:
        """Subscribe at QoS 1 and return the SUBACK reason code (1: granted QoS 1)."""
        _rc, mid = self.client.subscribe(topic, qos=1)
        return self._wait(lambda: (self.subacks.get(mid) or [None])[0])

    def wait_for(self, topic: str, payload: bytes, timeout: float = 5.0) -> None:
        self._wait(lambda: (topic, payload) in self.received or None, timeout)

    def wait_until(self, condition, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def topics(self) -> set[str]:
        with self.changed:
            return {topic for topic, _ in self.received}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _wait(self, answer, timeout: float = 5.0):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        with self.changed:
            while (found := answer()) is None:
                left = deadline - time.monotonic()
                assert left > 0, "the broker did not answer in time"
                self.changed.wait(left)
            return found


def login(
    broker: Mosquitto | EmbeddedBroker, username: str | None, password: str | None = None
) -> Account:
    """A connected account; raises Refused when the broker says no."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"acl-test-{next(_counter)}", protocol=mqtt.MQTTv5
    )
    if username is not None:
        client.username_pw_set(username, password)
    account = Account(client)
    answered = threading.Event()
    outcome: list[ReasonCode] = []

    def on_connect(_c, _u, _f, reason, _p) -> None:  # type: ignore[no-untyped-def]
        outcome.append(reason)
        answered.set()

    def on_message(_c, _u, message) -> None:  # type: ignore[no-untyped-def]
        with account.changed:
            account.received.append((message.topic, message.payload))
            account.changed.notify_all()

    def on_publish(_c, _u, mid, reason, _p) -> None:  # type: ignore[no-untyped-def]
        with account.changed:
            account.pubacks[mid] = reason.value
            account.changed.notify_all()

    def on_subscribe(_c, _u, mid, reasons, _p) -> None:  # type: ignore[no-untyped-def]
        with account.changed:
            account.subacks[mid] = [r.value for r in reasons]
            account.changed.notify_all()

    def on_disconnect(_c, _u, _f, reason, _p) -> None:  # type: ignore[no-untyped-def]
        if not answered.is_set():
            outcome.append(reason)
            answered.set()

    client.on_connect, client.on_message = on_connect, on_message
    client.on_publish, client.on_subscribe = on_publish, on_subscribe
    client.on_disconnect = on_disconnect
    client.connect(broker.host, broker.port, keepalive=30)
    client.loop_start()
    assert answered.wait(5), "no CONNACK"
    if outcome[0].is_failure:
        client.loop_stop()
        client.disconnect()
        raise Refused(outcome[0])
    return account
