"""The scheduler's MQTT connection: publishes commands, receives badge taps and command acks.

The paho callback only decodes and hands off to a queue; worker threads do the
database work, each message in its own try/except. Taps and acks are taken through
a shared subscription, so with several schedulers running each is handled once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt

from devices.client import make_client
from devices.contract import (
    MAX_FUTURE,
    Command,
    CommandAck,
    Event,
    InvalidMessage,
    decode,
    topic_filter,
)
from devices.publish import publish_command
from service.config import MqttSettings
from service.rules.commands import Outgoing

log = logging.getLogger(__name__)

SHARE_GROUP = "smartfab-scheduler"
ACK_LINGER_S = 0.2
_STOP = object()


class DeviceLink:
    def __init__(
        self,
        settings: MqttSettings,
        *,
        client_id: str,
        clock: Callable[[], datetime],
        on_badge: Callable[[Event], None] | None = None,
        on_acks: Callable[[list[CommandAck]], None] | None = None,
        badge_workers: int = 4,
        max_future: timedelta = MAX_FUTURE,
    ) -> None:
        self.settings = settings
        self.root = settings.topic_root
        self.clock = clock
        self.max_future = max_future
        self.on_badge = on_badge
        self.on_acks = on_acks
        # Taps have their own queue and workers: a person waits for each answer, while
        # acks (hundreds at a slot boundary) are settled in batches behind them.
        self._taps: queue.Queue[object] = queue.Queue(maxsize=10_000)
        self._acks: queue.Queue[object] = queue.Queue(maxsize=100_000)
        self._workers = [
            threading.Thread(target=self._answer_taps, name=f"scheduler-taps-{i}", daemon=True)
            for i in range(badge_workers if on_badge is not None else 0)
        ]
        if on_acks is not None:
            self._workers.append(
                threading.Thread(target=self._settle_acks, name="scheduler-acks", daemon=True)
            )
        self._ready = threading.Event()
        self.client = make_client(
            client_id,
            username=settings.username,
            password=settings.password,
            **settings.tls_options(),
        )
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
        for worker in self._workers:
            (self._acks if worker.name == "scheduler-acks" else self._taps).put(_STOP)
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
            command = Command(
                id=c.uid,
                action=c.action,
                reservation=c.reservation_id,
                until=c.until,
                message=c.message,
            )
            info = publish_command(self.client, self.root, c.site, c.device, command)
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
        topics = []
        if self.on_badge is not None:
            topics.append((topic_filter(self.root, "event", group=SHARE_GROUP), 1))
        if self.on_acks is not None:
            topics.append((topic_filter(self.root, "cmd/ack", group=SHARE_GROUP), 1))
        if not topics:
            self._ready.set()
            return
        client.subscribe(topics)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, _codes: Any, _p: Any) -> None:
        self._ready.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._ready.clear()
        if reason.is_failure:
            log.warning("MQTT disconnected: %s; reconnecting", reason)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            message = decode(
                msg.topic,
                bytes(msg.payload),
                root=self.root,
                now=self.clock(),
                max_future=self.max_future,
            )
        except InvalidMessage:
            return  # the telemetry listener keeps the dead letter
        try:
            if isinstance(message, CommandAck):
                self._acks.put_nowait(message)
            elif isinstance(message, Event) and message.type == "badge":
                self._taps.put_nowait(message)
        except queue.Full:
            log.error("scheduler queue full; dropping %s", type(message).__name__)

    def _answer_taps(self) -> None:
        handler = self.on_badge
        while handler is not None:
            item = self._taps.get()
            if item is _STOP:
                return
            try:
                handler(item)  # type: ignore[arg-type]
            except Exception:
                log.exception("answering %r failed", item)

    def _settle_acks(self) -> None:
        handler = self.on_acks
        while handler is not None:
            batch = [self._acks.get()]
            # Acks are not urgent: gather what comes in the next moment into one transaction.
            linger = time.monotonic() + ACK_LINGER_S
            while len(batch) < 1000 and _STOP not in batch:
                try:
                    batch.append(self._acks.get(timeout=max(0.0, linger - time.monotonic())))
                except queue.Empty:
                    break
            stop = _STOP in batch
            acks = [a for a in batch if a is not _STOP]
            try:
                if acks:
                    handler(acks)  # type: ignore[arg-type]
            except Exception:
                log.exception("settling %d acks failed", len(acks))
            if stop:
                return
