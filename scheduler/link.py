"""The scheduler's MQTT connection: publishes commands, receives badge taps and command acks.

The paho callback only decodes and hands off to a queue; worker threads do the
database work, each message in its own try/except. Taps and acks are taken through
a shared subscription, so with several schedulers running each is handled once.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devices.contract import (
    Command,
    CommandAck,
    Event,
    InvalidMessage,
    Message,
    decode,
    encode_command,
    topic_for,
)
from service.config import MqttSettings
from service.rules.commands import Outgoing

log = logging.getLogger(__name__)

SHARE_GROUP = "smartfab-scheduler"
_STOP = object()


class DeviceLink:
    def __init__(
        self,
        settings: MqttSettings,
        *,
        client_id: str,
        clock: Callable[[], datetime],
        handler: Callable[[Message], None] | None = None,
        workers: int = 2,
    ) -> None:
        self.settings = settings
        self.root = settings.topic_root
        self.clock = clock
        self.handler = handler
        self._inbox: queue.Queue[object] = queue.Queue(maxsize=10_000)
        self._workers = [
            threading.Thread(target=self._work, name=f"scheduler-link-{i}", daemon=True)
            for i in range(workers if handler is not None else 0)
        ]
        self._ready = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        if settings.username:
            self.client.username_pw_set(settings.username, settings.password or None)
        if settings.tls:
            self.client.tls_set()
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    # Lifecycle

    def start(self, timeout: float = 10.0) -> None:
        """Connect and subscribe; returns once taps and acks are being received."""
        for worker in self._workers:
            worker.start()
        self.client.connect_async(self.settings.host, self.settings.port, clean_start=True)
        self.client.loop_start()
        if not self._ready.wait(timeout):
            log.warning("MQTT broker %s:%s not reached yet", self.settings.host, self.settings.port)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        for _ in self._workers:
            self._inbox.put(_STOP)
        for worker in self._workers:
            worker.join(timeout=5)

    @property
    def connected(self) -> bool:
        return self.client.is_connected()

    # Outbound

    def publish(self, commands: Sequence[Outgoing]) -> int:
        """Publish each command with QoS 1; returns how many were handed to the client."""
        handed = 0
        for c in commands:
            payload = encode_command(
                Command(
                    id=c.uid,
                    action=c.action,
                    reservation=c.reservation_id,
                    until=c.until,
                    message=c.message,
                )
            )
            info = self.client.publish(
                topic_for(self.root, c.site, c.device, "cmd"), payload, qos=1
            )
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                handed += 1
            else:  # left to the retry of unacknowledged commands
                log.warning(
                    "command %s to %s/%s not published: rc %s", c.uid, c.site, c.device, info.rc
                )
        return handed

    # paho callbacks: decode and hand off, nothing else

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT connect refused: %s", reason)
            return
        if self.handler is None:
            self._ready.set()
            return
        client.subscribe(
            [
                (f"$share/{SHARE_GROUP}/{self.root}/+/+/event", 1),
                (f"$share/{SHARE_GROUP}/{self.root}/+/+/cmd/ack", 1),
            ]
        )

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, _codes: Any, _p: Any) -> None:
        self._ready.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._ready.clear()
        if reason.is_failure:
            log.warning("MQTT disconnected: %s; reconnecting", reason)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            message = decode(msg.topic, bytes(msg.payload), root=self.root, now=self.clock())
        except InvalidMessage:
            return  # the telemetry listener keeps the dead letter
        if isinstance(message, CommandAck) or (
            isinstance(message, Event) and message.type == "badge"
        ):
            try:
                self._inbox.put_nowait(message)
            except queue.Full:
                log.error("scheduler inbox full; dropping %s", type(message).__name__)

    def _work(self) -> None:
        handler = self.handler
        if handler is None:
            return
        while True:
            item = self._inbox.get()
            if item is _STOP:
                return
            try:
                handler(item)  # type: ignore[arg-type]
            except Exception:
                log.exception("handling %r failed", item)
