"""What `apply` holds for one batch: each device's state, its open run, and alerts."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, update
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from service.models import Alert, AlertKind, Device, Reservation, UsageSession
from service.rules.devices import close_alert, end_usage, new_alert, open_alerts, subject_of

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


class DeviceKey(NamedTuple):
    """Who a locked device is: read as plain columns, no ORM object per device."""

    id: int
    site_id: int
    resource_id: int | None
    slug: str
    site_slug: str


@dataclass(slots=True)
class DeviceState:
    """A device's live columns as plain values: a batch changes these many times and
    writes the rows it changed once, in one statement for all of them."""

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
    def columns(cls) -> list[Any]:
        return [getattr(Device, name) for name in LIVE_FIELDS]

    @classmethod
    def of(cls, values: tuple[Any, ...]) -> DeviceState:
        state = cls(*values)
        state.last_values = dict(state.last_values or {})
        return state

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in LIVE_FIELDS)

    def row(self, device_id: int) -> dict[str, Any]:
        row = {f"new_{name}": getattr(self, name) for name in LIVE_FIELDS}
        row["device_id"] = device_id
        return row


class BatchAlerts:
    """The open alerts about a batch's devices, read once: most messages neither raise
    nor clear one, and those that do skip the look-up. The device rows are locked, so
    no other listener changes these alerts meanwhile. Alerts raised in the batch are
    stored together by `save` (an alert raised and cleared within the batch is stored
    closed: it happened)."""

    def __init__(self, session: Session, now: datetime, subjects: Iterable[str]) -> None:
        self.session, self.now = session, now
        self.open_now: set[tuple[str, str]] = set(
            session.exec(
                select(Alert.kind, Alert.subject).where(
                    col(Alert.subject).in_(list(subjects)), col(Alert.closed_at).is_(None)
                )
            ).all()
        )
        self._raised: dict[tuple[str, str], Alert] = {}
        self._done: list[Alert] = []

    def raise_(self, target: LiveDevice, kind: AlertKind, message: str) -> None:
        key = (kind, target.subject)
        if key in self.open_now:
            return
        self._raised[key] = new_alert(
            now=self.now,
            kind=kind,
            subject=target.subject,
            message=message,
            site_id=target.key.site_id,
            resource_id=target.key.resource_id,
            device_id=target.key.id,
        )
        self.open_now.add(key)

    def clear(self, target: LiveDevice, kind: AlertKind) -> None:
        key = (kind, target.subject)
        if key not in self.open_now:
            return
        self.open_now.discard(key)
        raised = self._raised.pop(key, None)
        if raised is None:
            close_alert(session=self.session, now=self.now, kind=kind, subject=target.subject)
        else:
            raised.closed_at = self.now
            self._done.append(raised)

    def save(self) -> None:
        open_alerts(session=self.session, alerts=[*self._done, *self._raised.values()])
        self._raised, self._done = {}, []


@dataclass
class LiveDevice:
    """A device row locked for this batch, with what its messages act on."""

    key: DeviceKey
    live: DeviceState
    run: Run | None
    # Entitling reservations of the resource around the batch's time span.
    reservations: list[Reservation] = field(default_factory=list)
    alerts: BatchAlerts = field(init=False)
    read: tuple[Any, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.read = self.live.values()

    @property
    def subject(self) -> str:
        return subject_of(self.key.site_slug, self.key.slug)

    @property
    def changed(self) -> bool:
        return self.live.values() != self.read


# One UPDATE, sent once per batch with the rows of every device that changed.
WRITE_LIVE = (
    update(Device)
    .where(col(Device.id) == bindparam("device_id"))
    .values({name: bindparam(f"new_{name}") for name in LIVE_FIELDS})
)


WRITE_RUN = (
    update(UsageSession)
    .where(col(UsageSession.id) == bindparam("usage_id"))
    .values(
        last_sample_at=bindparam("new_last_sample_at"),
        run_seconds=bindparam("new_run_seconds"),
        energy_wh=bindparam("new_energy_wh"),
    )
)


def write_runs(session: Session, devices: Iterable[LiveDevice]) -> None:
    rows = [row for t in devices if t.run is not None and (row := t.run.row()) is not None]
    if rows:
        session.connection().execute(WRITE_RUN, rows)


def write_live(session: Session, devices: Iterable[LiveDevice]) -> None:
    changed = [target for target in devices if target.changed]
    if not changed:
        return
    # Core executemany on the session's connection: no ORM object per device.
    session.connection().execute(WRITE_LIVE, [t.live.row(t.key.id) for t in changed])
    for target in changed:
        # A caller's session may hold one of these rows: make it read the new values.
        held = session.identity_map.get(identity_key(Device, target.key.id))
        if held is not None:
            session.expire(held)


@dataclass(slots=True)
class Run:
    """The open usage session of a device, its running totals kept as plain values.

    A session read from the database is known by its id (its totals are written by
    `write_runs`, one statement for the batch); one started in this batch is an ORM
    object, inserted at commit.
    """

    usage_id: int | None
    usage: UsageSession | None
    start_at: datetime
    last_sample_at: datetime
    energy_wh: float
    read: tuple[datetime, float] | None = None

    @classmethod
    def columns(cls) -> list[Any]:
        return [
            UsageSession.device_id,
            UsageSession.id,
            UsageSession.start_at,
            UsageSession.last_sample_at,
            UsageSession.energy_wh,
        ]

    @classmethod
    def of_row(cls, row: tuple[Any, ...]) -> Run:
        usage_id, start_at, last_sample_at, energy_wh = row
        return cls(usage_id, None, start_at, last_sample_at, energy_wh, (last_sample_at, energy_wh))

    @classmethod
    def started(cls, usage: UsageSession) -> Run:
        return cls(None, usage, usage.start_at, usage.last_sample_at, usage.energy_wh)

    @property
    def run_seconds(self) -> int:
        return int((self.last_sample_at - self.start_at).total_seconds())

    def end(self, session: Session, at: datetime, ended_by: str) -> None:
        usage = self.usage or session.get_one(UsageSession, self.usage_id)
        self.usage, self.read = usage, None
        self._write(usage)
        end_usage(usage=usage, at=at, ended_by=ended_by)

    def _write(self, usage: UsageSession) -> None:
        usage.last_sample_at = self.last_sample_at
        usage.run_seconds = self.run_seconds
        usage.energy_wh = self.energy_wh

    def row(self) -> dict[str, Any] | None:
        """The UPDATE parameters of a session read from the database, if it changed."""
        if self.usage is not None:
            self._write(self.usage)
            return None
        if self.read == (self.last_sample_at, self.energy_wh):
            return None
        return {
            "usage_id": self.usage_id,
            "new_last_sample_at": self.last_sample_at,
            "new_run_seconds": self.run_seconds,
            "new_energy_wh": self.energy_wh,
        }
