"""The MQTT listener: device messages into the telemetry store and the SQL state.

paho-mqtt 2.x, MQTT v5, QoS 1, a fixed client id and a persistent session (clean
start off, a session expiry), so what devices send while the listener is down waits
in the broker. Messages are acknowledged by hand, and only after their batch is
durable in the telemetry store and applied in SQL: a crash at any point loses
nothing, the broker just delivers the unacknowledged messages again.

The paho callback only enqueues; a worker thread takes batches (up to `batch_max`
messages, or what arrived within `linger` seconds), decodes them, writes their points,
applies them to devices, usage sessions and alerts, records invalid ones as dead
letters, and then acknowledges every message of the batch.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions
from sqlalchemy import Engine
from sqlmodel import Session, select

from devices.client import make_client
from devices.contract import InvalidMessage, Message, decode, parse_topic, topic_filter
from service.clock import utcnow
from service.config import Settings
from service.db import begin_write

from .derive import apply, dead_letters, points_for
from .directory import DeviceDirectory
from .inbound import Inbound, ListenerStats
from .store import TelemetryStore

log = logging.getLogger(__name__)

# How long the broker keeps the session (and queues for it) while the listener is away.
SESSION_EXPIRY_S = 7 * 24 * 3600
BATCH_MAX = 10_000
# A batch waits this long for more messages: more of a device's messages per batch
# means fewer row reads and writes per message.
LINGER_S = 0.2
POLL_S = 0.01
# Unacknowledged messages the broker may have on the way to us (MQTT v5 Receive
# Maximum); the local queue holds that many twice, so the callback never waits long.
RECEIVE_MAX = 20_000
KEEPALIVE_S = 30
# Devices whose last arrival time is remembered (far more than a fab has).
ARRIVALS_MAX = 100_000


def subscription(settings: Settings) -> str:
    """Everything under the topic root, in the shared group when one is set."""
    return topic_filter(settings.mqtt.topic_root, group=settings.mqtt.shared_group)


class Listener:
    """Ingest device messages until stop(); start() returns at once."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        store: TelemetryStore,
        *,
        clock: Callable[[], datetime] = utcnow,
        batch_max: int = BATCH_MAX,
        linger: float = LINGER_S,
    ) -> None:
        if not settings.mqtt.host:
            raise ValueError("[mqtt] host is not set: the listener needs a broker")
        self.settings = settings
        self.engine = engine
        self.store = store
        self.stats = ListenerStats()
        self.connected = threading.Event()
        self._clock = clock
        self._root = settings.mqtt.topic_root
        self._max_future = timedelta(seconds=settings.telemetry.max_clock_skew_s)
        self._batch_max = batch_max
        self._linger = linger
        self._queue: queue.Queue[Inbound] = queue.Queue(maxsize=2 * RECEIVE_MAX)
        self._directory = DeviceDirectory(engine)
        self._stopping = threading.Event()
        self._ack_lock = threading.Lock()
        self._connection = 0
        self._worker: threading.Thread | None = None
        # The last arrival time handed out per (site, device) part of a topic.
        self._arrivals: dict[str, datetime] = {}
        self._client = self._make_client()

    # -- MQTT ----------------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        cfg = self.settings.mqtt
        client = make_client(
            cfg.client_id,
            username=cfg.username,
            password=cfg.password,
            manual_ack=True,
            **cfg.tls_options(),
        )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _connect_properties(self) -> Properties:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        properties.ReceiveMaximum = RECEIVE_MAX
        return properties

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        self.stats.connects += 1
        log.info(
            "connected to %s:%s as %s (session %s)",
            self.settings.mqtt.host,
            self.settings.mqtt.port,
            self.settings.mqtt.client_id,
            "resumed" if flags.session_present else "new",
        )
        # Retained messages only for a new subscription, not again on every reconnect.
        options = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)
        client.subscribe(subscription(self.settings), options=options)

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        if any(reason.is_failure for reason in reasons):
            log.error(
                "broker refused the subscription %s: %s", subscription(self.settings), reasons
            )
            return
        self.connected.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        with self._ack_lock:
            # Message ids of the old connection mean nothing on the next one.
            self._connection += 1
        self.connected.clear()
        if not self._stopping.is_set():
            log.warning("disconnected from the broker (%s); reconnecting", reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if self._stopping.is_set():
            return  # not acknowledged: the broker delivers it again to this session
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = "(topic not UTF-8)"
        payload = bytes(message.payload)  # paho hands out a slice of its bytearray
        arrived = self._arrival(topic)
        self._queue.put(
            Inbound(topic, payload, message.mid, message.qos, self._connection, arrived)
        )
        self.stats.received += 1

    def _arrival(self, topic: str) -> datetime:
        """Now to the millisecond (the store's precision), later than the previous
        arrival from the same device, so messages without `ts` never share a time."""
        at = self._clock()
        at = at.replace(microsecond=at.microsecond // 1000 * 1000)
        try:
            parts = parse_topic(topic, root=self._root)
            device = f"{parts.site}/{parts.device}"
        except InvalidMessage:
            device = topic  # decoding refuses it anyway
        last = self._arrivals.get(device)
        if last is not None and at <= last:
            at = last + timedelta(milliseconds=1)
        if len(self._arrivals) >= ARRIVALS_MAX:  # topics of junk must not grow it forever
            self._arrivals.clear()
        self._arrivals[device] = at
        return at

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Connect (retrying in the background) and start the worker."""
        self._worker = threading.Thread(target=self._work, name="listener-worker", daemon=True)
        self._worker.start()
        cfg = self.settings.mqtt
        self._client.connect_async(
            cfg.host,
            cfg.port,
            keepalive=KEEPALIVE_S,
            clean_start=False,
            properties=self._connect_properties(),
        )
        self._client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        """True once connected and subscribed."""
        return self.connected.wait(timeout)

    def stop(self, timeout: float = 60.0) -> None:
        """Stop consuming, finish and acknowledge what was received, disconnect.

        The telemetry store belongs to the caller, who closes it afterwards.
        """
        self._stopping.set()
        if self._worker is not None:
            self._worker.join(timeout)
            if self._worker.is_alive():
                log.error("listener worker still busy after %.0f s; leaving it", timeout)
        self._client.disconnect()
        self._client.loop_stop()
        log.info("listener stopped: %s", self.stats.summary())

    # -- work ----------------------------------------------------------------------------

    def _take(self) -> list[Inbound]:
        """A batch: the first message, then what arrives within the linger time (the
        worker polls rather than waking for every message: the callback runs meanwhile
        and one wake-up per message would cost both threads the GIL)."""
        try:
            batch = [self._queue.get(timeout=0.1)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self._linger
        while self._queue.qsize() < self._batch_max - 1:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._stopping.wait(min(remaining, POLL_S)):
                break
        while len(batch) < self._batch_max:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _work(self) -> None:
        pause = 0.5
        while True:
            batch = self._take()
            if not batch:
                if self._stopping.is_set():
                    return
                continue
            while True:
                try:
                    self.handle(batch)
                    pause = 0.5
                    break
                except Exception:
                    # Nothing was acknowledged; keep the batch and try again after a pause.
                    self.stats.failures += 1
                    log.exception("batch of %d messages failed; retrying", len(batch))
                    if self._stopping.wait(pause):
                        return  # left unacknowledged: delivered again on the next start
                    pause = min(pause * 2, 30.0)

    def handle(self, batch: list[Inbound]) -> None:
        """Decode, store, apply and acknowledge a batch: the worker's step for what the
        paho callback queued (tests hand it messages directly)."""
        now = self._clock()
        stats = self.stats
        began = time.perf_counter()
        decoded: list[tuple[Inbound, Message]] = []
        letters: list[tuple[str, str, bytes]] = []
        for item in batch:
            try:
                message = decode(
                    item.topic,
                    item.payload,
                    root=self._root,
                    now=item.arrived,
                    max_future=self._max_future,
                )
                decoded.append((item, message))
            except InvalidMessage as exc:
                if exc.reason != "not_inbound":  # our own commands to devices
                    letters.append((item.topic, exc.reason, item.payload))
        messages = [message for _, message in decoded]
        points = points_for(messages, self._directory)
        decoded_at = time.perf_counter()
        if points:
            self.store.write(points)
        stored_at = time.perf_counter()
        refused = self._apply(now, decoded, letters)
        applied_at = time.perf_counter()
        self._ack(batch)
        stats.ack_s += time.perf_counter() - applied_at
        stats.apply_s += applied_at - stored_at
        stats.store_s += stored_at - decoded_at
        stats.decode_s += decoded_at - began
        stats.batches += 1
        stats.messages += len(messages)
        stats.points += len(points)
        stats.dead_letters += len(letters) + refused
        stats.refused += refused

    def _apply(
        self,
        now: datetime,
        decoded: list[tuple[Inbound, Message]],
        letters: list[tuple[str, str, bytes]],
    ) -> int:
        """Apply the batch and keep its dead letters; how many messages `apply` refused."""
        messages = [m for _, m in decoded]
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                refused = apply(session=session, now=now, messages=messages, root=self._root)
                if letters:
                    begin_write(session)
                    dead_letters(session=session, now=now, letters=letters)
                session.commit()
            return refused
        except Exception:
            log.exception("applying a batch failed; applying its messages one by one")
        # One message must not hold back the others, nor stall the stream when it is
        # alone: apply each alone, and keep the one that fails as a dead letter.
        refused = 0
        for item, message in decoded:
            try:
                with Session(self.engine, expire_on_commit=False) as session:
                    found = apply(session=session, now=now, messages=[message], root=self._root)
                    session.commit()
                refused += found
            except Exception as exc:
                log.exception("message on %s could not be applied", item.topic)
                self._database_answers()
                letters.append((item.topic, f"apply_failed: {type(exc).__name__}", item.payload))
        self._keep_letters(now, letters)
        return refused

    def _keep_letters(self, now: datetime, letters: list[tuple[str, str, bytes]]) -> None:
        """Store dead letters, one by one if they fail together. A letter the database
        refuses while it answers is logged and dropped; if it does not answer, raise:
        the batch is retried."""
        if not letters:
            return
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                begin_write(session)
                dead_letters(session=session, now=now, letters=letters)
                session.commit()
            return
        except Exception:
            log.exception("storing %d dead letters failed; storing them one by one", len(letters))
        for letter in letters:
            try:
                with Session(self.engine, expire_on_commit=False) as session:
                    begin_write(session)
                    dead_letters(session=session, now=now, letters=[letter])
                    session.commit()
            except Exception:
                self._database_answers()
                self.stats.dropped += 1
                log.exception("dropped a message on %s: not even its dead letter fits", letter[0])

    def _database_answers(self) -> None:
        """Raise when the database is away: then no message is to blame, and the batch
        is retried whole."""
        with Session(self.engine) as session:
            session.exec(select(1)).one()

    def _ack(self, batch: list[Inbound]) -> None:
        acked = 0
        with self._ack_lock:
            for item in batch:
                if item.qos and item.connection == self._connection:
                    self._client.ack(item.mid, item.qos)
                    acked += 1
        self.stats.acked += acked
