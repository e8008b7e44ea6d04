"""Simulated machines for the scheduler tests: a paho client on every device's `cmd` topic
that records each command and answers it with `cmd/ack` (unless told to stay silent),
and taps badges. Plus the small helpers the scheduler tests share."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlmodel import Session

from devices.contract import encode_ack, encode_event, topic_for
from service.config import Settings, load_settings
from service.models import Device, Reservation, ReservationStatus, Resource

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Received:
    site: str
    device: str
    body: dict[str, Any]
    at: float  # time.perf_counter() when it arrived

    @property
    def action(self) -> str:
        return str(self.body["action"])


@dataclass
class Machines:
    """Every simulated device on one broker; `silent` devices never acknowledge."""

    host: str
    port: int
    root: str = "smartfab"
    silent: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_: self._ready.set()
        self.client.on_message = self._on_message

    def __enter__(self) -> Machines:
        self.client.connect(self.host, self.port)
        self.client.loop_start()
        assert self._ready.wait(10), "simulated machines did not subscribe"
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, *_: Any) -> None:
        client.subscribe(f"{self.root}/+/+/cmd", qos=1)

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        _, site, device, _ = msg.topic.split("/", 3)
        body = json.loads(msg.payload)
        with self._lock:
            self.received.append(Received(site, device, body, time.perf_counter()))
            self._lock.notify_all()
        if device not in self.silent:
            client.publish(
                topic_for(self.root, site, device, "cmd/ack"), encode_ack(body["id"], True), qos=1
            )

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Wait until at least `count` commands arrived; return all of them."""
        with self._lock:
            self._lock.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def settle(self, quiet: float = 0.3) -> list[Received]:
        """Wait until no command arrived for `quiet` seconds."""
        while True:
            seen = len(self.received)
            time.sleep(quiet)
            if len(self.received) == seen:
                return list(self.received)

    def tap(self, site: str, device: str, card: str) -> float:
        """Tap a badge; returns time.perf_counter() at publish."""
        at = time.perf_counter()
        self.client.publish(
            topic_for(self.root, site, device, "event"),
            encode_event(None, "badge", card=card),
            qos=1,
        )
        return at

    def actions(self, device: str | None = None) -> list[str]:
        return [r.action for r in self.received if device is None or r.device == device]


def scheduler_settings(db_url: str, broker: Any = None, **sections: dict[str, Any]) -> Settings:
    overrides: dict[str, Any] = {"database": {"url": db_url}, **sections}
    if broker is not None:
        overrides["mqtt"] = {"host": broker.host, "port": broker.port}
    return load_settings(path=ROOT / "config.toml", environ={}, overrides=overrides)


def add_device(session: Session, resource: Resource, slug: str | None = None) -> Device:
    device = Device(site_id=resource.site_id, resource_id=resource.id, slug=slug or resource.slug)
    session.add(device)
    session.commit()
    return device


def reserve(
    session: Session,
    resource: Resource,
    account_id: int,
    start: datetime,
    minutes: int = 60,
    status: ReservationStatus = ReservationStatus.confirmed,
    **kw: Any,
) -> Reservation:
    """A reservation row as the booking rules would have made it (they are tested elsewhere)."""
    end = start + timedelta(minutes=minutes)
    reservation = Reservation(
        resource_id=resource.id or 0,
        account_id=account_id,
        created_by_id=account_id,
        start_at=start,
        end_at=end,
        blocked_until=end + timedelta(minutes=resource.buffer_minutes),
        status=status,
        created_at=start - timedelta(days=1),
        updated_at=start - timedelta(days=1),
        **kw,
    )
    session.add(reservation)
    session.commit()
    return reservation


class Clock:
    """A hand-moved clock for the scheduler (its badge handler reads it)."""

    def __init__(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def acked(engine: Any, timeout: float = 5.0) -> None:
    """Wait until no command waits for its ack (the simulated machines answer each one)."""
    from sqlmodel import func, select

    from service.models import CommandState, DeviceCommand

    deadline = time.monotonic() + timeout
    while True:
        with Session(engine) as fresh:
            waiting = fresh.exec(
                select(func.count()).where(DeviceCommand.state == CommandState.sent)
            ).one()
        if not waiting:
            return
        assert time.monotonic() < deadline, f"{waiting} commands not acknowledged"
        time.sleep(0.02)
