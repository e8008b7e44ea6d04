"""Device messages driven in-process through the listener's and the scheduler's real
handling: what their paho callbacks hand on, without a broker in between."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from devices.contract import CommandAck, Event, InvalidMessage, decode
from scheduler import jobs
from service.config import Settings, load_settings
from service.rules.commands import Outgoing
from telemetry.inbound import Inbound
from telemetry.listener import Listener
from telemetry.sqlstore import SqlTelemetryStore

ROOT = Path(__file__).resolve().parent.parent


def inproc_settings(db_url: str, **telemetry: int) -> Settings:
    """Settings naming a broker that is never dialled (the listener is not started)."""
    overrides = {
        "database": {"url": db_url},
        "mqtt": {"host": "127.0.0.1", "port": 1},
        "telemetry": telemetry,
    }
    return load_settings(path=ROOT / "config.toml", environ={}, overrides=overrides)


@dataclass
class Sent:
    """A publisher of the scheduler's answers that only records them."""

    commands: list[Outgoing] = field(default_factory=list)

    @property
    def connected(self) -> bool:
        return True

    def publish(self, commands: list[Outgoing]) -> int:
        self.commands.extend(commands)
        return len(commands)


class Feed:
    """Hands messages to a listener's batch step and to the scheduler's tap and ack jobs,
    as their callbacks would, all at the frozen time `now`."""

    def __init__(self, settings: Settings, engine: Engine, now: datetime) -> None:
        self.settings, self.engine, self.now = settings, engine, now
        self.store = SqlTelemetryStore(engine)
        self.listener = Listener(settings, engine, self.store, clock=lambda: self.now)
        self.sent = Sent()
        self.root = settings.mqtt.topic_root

    def listen(self, messages: Iterable[tuple[str, bytes]]) -> None:
        """One batch through the listener (decode, store, apply, dead letters)."""
        batch = [Inbound(topic, payload, 0, 0, 0, self.now) for topic, payload in messages]
        self.listener.handle(batch)

    def schedule(self, messages: Iterable[tuple[str, bytes]]) -> None:
        """The same messages through the scheduler: taps answered, acks settled."""
        skew = timedelta(seconds=self.settings.telemetry.max_clock_skew_s)
        acks = []
        for topic, payload in messages:
            try:
                message = decode(topic, payload, root=self.root, now=self.now, max_future=skew)
            except InvalidMessage:
                continue
            if isinstance(message, CommandAck):
                acks.append(message)
            elif isinstance(message, Event) and message.type == "badge":
                jobs.answer_tap(engine=self.engine, now=self.now, tap=message, publisher=self.sent)
        if acks:
            jobs.settle_acks(engine=self.engine, now=self.now, acks=acks)

    def both(self, messages: Iterable[tuple[str, bytes]]) -> None:
        batch = list(messages)
        self.listen(batch)
        self.schedule(batch)

    def close(self) -> None:
        self.store.close()
