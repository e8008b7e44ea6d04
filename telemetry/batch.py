"""What `apply` holds for one batch: each device's state, its open run, and alerts."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from service.models import (
    Alert,
    AlertKind,
    Device,
    Reservation,
    Resource,
    Site,
    UsageSession,
)
from service.rules.devices import close_alert, open_alert, subject_of

log = logging.getLogger(__name__)


LIVE_FIELDS = (
    "online",
    "last_seen",
    "last_ts",
    "status_at",
    "state",
    "state_since",
    "last_values",
    "last_card",
    "last_card_at",
)


@dataclass(slots=True)
class DeviceState:
    """A device's live columns as plain values: a batch changes these many times and
    writes them to the row once (attribute writes on a model are costly)."""

    online: bool
    last_seen: datetime | None
    last_ts: datetime | None
    status_at: datetime | None
    state: str | None
    state_since: datetime | None
    last_values: dict[str, Any]
    last_card: str | None
    last_card_at: datetime | None

    @classmethod
    def of(cls, device: Device) -> DeviceState:
        values = {name: getattr(device, name) for name in LIVE_FIELDS}
        values["last_values"] = dict(values["last_values"] or {})
        return cls(**values)

    def write(self, device: Device) -> None:
        for name in LIVE_FIELDS:
            value = getattr(self, name)
            if value != getattr(device, name):
                setattr(device, name, value)


@dataclass(slots=True)
class Run:
    """The open usage session of a device, its running totals kept as plain values."""

    usage: UsageSession
    start_at: datetime
    last_sample_at: datetime
    energy_wh: float

    @classmethod
    def of(cls, usage: UsageSession) -> Run:
        return cls(usage, usage.start_at, usage.last_sample_at, usage.energy_wh)

    def write(self) -> UsageSession:
        usage = self.usage
        if usage.last_sample_at != self.last_sample_at:
            usage.last_sample_at = self.last_sample_at
            usage.run_seconds = int((self.last_sample_at - self.start_at).total_seconds())
        if usage.energy_wh != self.energy_wh:
            usage.energy_wh = self.energy_wh
        return usage


class BatchAlerts:
    """The open alerts about a batch's devices, read once: most messages neither raise
    nor clear one, and those that do skip the look-up. The device rows are locked, so
    nobody else changes these alerts meanwhile."""

    def __init__(self, session: Session, now: datetime, subjects: Iterable[str]) -> None:
        self.session, self.now = session, now
        self.open_now: set[tuple[str, str]] = set(
            session.exec(
                select(Alert.kind, Alert.subject).where(
                    col(Alert.subject).in_(list(subjects)), col(Alert.closed_at).is_(None)
                )
            ).all()
        )

    def raise_(self, target: LiveDevice, kind: AlertKind, message: str) -> None:
        if (kind, target.subject) in self.open_now:
            return
        device = target.device
        open_alert(
            session=self.session,
            now=self.now,
            kind=kind,
            subject=target.subject,
            message=message,
            site_id=device.site_id,
            resource_id=device.resource_id,
            device_id=device.id,
        )
        self.open_now.add((kind, target.subject))

    def clear(self, target: LiveDevice, kind: AlertKind) -> None:
        if (kind, target.subject) in self.open_now:
            close_alert(session=self.session, now=self.now, kind=kind, subject=target.subject)
            self.open_now.discard((kind, target.subject))


@dataclass
class LiveDevice:
    """A device row locked for this batch, with what its messages act on."""

    device: Device
    site: Site
    resource: Resource | None
    run: Run | None
    # Entitling reservations of the resource around the batch's time span.
    reservations: list[Reservation] = field(default_factory=list)
    live: DeviceState = field(init=False)
    alerts: BatchAlerts = field(init=False)

    def __post_init__(self) -> None:
        self.live = DeviceState.of(self.device)

    @property
    def subject(self) -> str:
        return subject_of(self.site.slug, self.device.slug)

    def write(self) -> None:
        self.live.write(self.device)
        if self.run is not None:
            self.run.write()
