"""What device messages mean in SQL: live status, usage sessions, alerts, dead letters.

The listener writes a batch's points to the telemetry store, then calls `apply`.
Every message of a device is applied in time order, under a lock on the device
row, and only if it is newer than what the device already applied: duplicates
and stragglers (QoS 1 redelivery, a second listener, a device replaying its
buffer) leave sessions and status as they are.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import tuple_
from sqlmodel import Session, col, select

from devices.contract import (
    CommandAck,
    Event,
    Kind,
    Message,
    Status,
    Telemetry,
    encode_event,
    encode_status,
    encode_telemetry,
    topic_for,
)
from service.db import begin_write
from service.models import (
    Account,
    AlertKind,
    Device,
    Reservation,
    ReservationStatus,
    Resource,
    Site,
    UsageSession,
)
from service.rules.devices import close_alert, end_usage, open_alert, subject_of

from .deadletters import dead_letter, dead_letters
from .directory import DeviceTags, points_for

__all__ = ["DeviceTags", "apply", "dead_letter", "dead_letters", "points_for"]

log = logging.getLogger(__name__)

# A badge tap this long before a machine starts names who started it.
BADGE_WINDOW = timedelta(minutes=10)
# Reservations in these states entitle their holder to run the machine.
ENTITLING = (ReservationStatus.confirmed, ReservationStatus.active)


@dataclass
class _Live:
    """A device row locked for this batch, with what its messages act on."""

    device: Device
    site: Site
    resource: Resource | None
    usage: UsageSession | None

    @property
    def subject(self) -> str:
        return subject_of(self.site.slug, self.device.slug)


def apply(
    *, session: Session, now: datetime, messages: Sequence[Message], root: str = "smartfab"
) -> None:
    """Apply a batch of decoded messages to device status, usage and alerts; commits.

    `root` (the MQTT topic root) only names the topic of dead letters.
    """
    if not messages:
        return
    begin_write(session)
    by_device: dict[tuple[str, str], list[Message]] = defaultdict(list)
    for message in messages:
        by_device[(message.site, message.device)].append(message)
    live = _lock_devices(session, by_device.keys())
    for key, batch in by_device.items():
        target = live.get(key)
        if target is None:
            _unknown_device(session, now, key, batch, root)
            continue
        # sorted() is stable: same-time messages keep their arrival order.
        for message in sorted(batch, key=lambda m: m.ts):
            _apply_one(session, now, target, message)
    session.commit()


def _lock_devices(
    session: Session, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], _Live]:
    wanted = list(keys)
    rows = session.exec(
        select(Device, Site)
        .join(Site, col(Site.id) == Device.site_id)
        .where(tuple_(col(Site.slug), col(Device.slug)).in_(wanted))
        .order_by(col(Device.id))
        .with_for_update(of=Device)
    ).all()
    live: dict[tuple[str, str], _Live] = {}
    resource_ids = {d.resource_id for d, _ in rows if d.resource_id is not None}
    resources = {
        r.id: r for r in session.exec(select(Resource).where(col(Resource.id).in_(resource_ids)))
    }
    usages = {
        u.device_id: u
        for u in session.exec(
            select(UsageSession).where(
                col(UsageSession.device_id).in_([d.id for d, _ in rows]),
                col(UsageSession.end_at).is_(None),
            )
        )
    }
    for device, site in rows:
        resource = resources.get(device.resource_id)
        live[(site.slug, device.slug)] = _Live(device, site, resource, usages.get(device.id or 0))
    return live


def _apply_one(session: Session, now: datetime, target: _Live, message: Message) -> None:
    if isinstance(message, Telemetry):
        _telemetry(session, now, target, message)
    elif isinstance(message, Status):
        _status(session, now, target, message)
    elif isinstance(message, Event):
        _event(target, message, now)
    elif isinstance(message, CommandAck):
        _seen(target.device, message.ts, now)


def _seen(device: Device, ts: datetime, now: datetime) -> None:
    ts = min(ts, now)
    if device.last_seen is None or ts > device.last_seen:
        device.last_seen = ts


def _telemetry(session: Session, now: datetime, target: _Live, sample: Telemetry) -> None:
    device = target.device
    if device.last_ts is not None and sample.ts <= device.last_ts:
        return  # a duplicate or a straggler: stored as a point, but no edge moves
    _seen(device, sample.ts, now)
    if not device.online and (device.status_at is None or sample.ts > device.status_at):
        device.online = True
        close_alert(session=session, now=now, kind=AlertKind.offline, subject=target.subject)
    previous = dict(device.last_values)
    state = sample.state if sample.state is not None else device.state
    if target.usage is not None:
        _accumulate(target.usage, previous, sample)
    if state == "running" and target.usage is None and device.resource_id is not None:
        target.usage = _start_usage(session, now, target, sample.ts)
    elif state != "running" and target.usage is not None:
        end_usage(usage=target.usage, at=sample.ts, ended_by="state")
        close_alert(
            session=session, now=now, kind=AlertKind.unauthorised_use, subject=target.subject
        )
        target.usage = None
    if state != device.state:
        _fault_edge(session, now, target, state)
        device.state, device.state_since = state, sample.ts
    values = {**previous, **sample.metrics}
    if sample.state is not None:
        values["state"] = sample.state
    device.last_values = values
    device.last_ts = sample.ts


def _accumulate(usage: UsageSession, previous: dict[str, Any], sample: Telemetry) -> None:
    """Fold the interval since the session's last sample into run time and energy."""
    if sample.ts <= usage.last_sample_at:
        return
    hours = (sample.ts - usage.last_sample_at).total_seconds() / 3600
    meter, last_meter = sample.metrics.get("energy_wh"), previous.get("energy_wh")
    if meter is not None and isinstance(last_meter, int | float):
        # A meter that went backwards was reset: it counts from zero again.
        usage.energy_wh += meter - last_meter if meter >= last_meter else meter
    elif isinstance(previous.get("power_w"), int | float):
        # Power is sampled: hold the previous reading over the interval.
        usage.energy_wh += max(0.0, float(previous["power_w"])) * hours
    usage.last_sample_at = sample.ts
    usage.run_seconds = int((sample.ts - usage.start_at).total_seconds())


def _start_usage(session: Session, now: datetime, target: _Live, at: datetime) -> UsageSession:
    device, resource = target.device, target.resource
    usage = UsageSession(
        resource_id=device.resource_id or 0,
        device_id=device.id or 0,
        start_at=at,
        last_sample_at=at,
    )
    reservation = _entitling_reservation(session, device.resource_id, at)
    if reservation is not None:
        usage.reservation_id, usage.account_id = reservation.id, reservation.account_id
    else:
        usage.account_id = _badge_holder(session, device, at)
        if resource is not None and resource.walk_in_allowed:
            usage.walk_in = True
        else:
            usage.unauthorised = True
            open_alert(
                session=session,
                now=now,
                kind=AlertKind.unauthorised_use,
                subject=target.subject,
                message=f"{target.subject} running since {at.isoformat()} without a reservation",
                site_id=device.site_id,
                resource_id=device.resource_id,
                device_id=device.id,
            )
    session.add(usage)
    return usage


def _entitling_reservation(
    session: Session, resource_id: int | None, at: datetime
) -> Reservation | None:
    if resource_id is None:
        return None
    return session.exec(
        select(Reservation)
        .where(
            Reservation.resource_id == resource_id,
            col(Reservation.status).in_(ENTITLING),
            col(Reservation.start_at) <= at,
            col(Reservation.end_at) > at,
        )
        .order_by(col(Reservation.start_at))
    ).first()


def _badge_holder(session: Session, device: Device, at: datetime) -> int | None:
    if device.last_card is None or device.last_card_at is None:
        return None
    if not at - BADGE_WINDOW <= device.last_card_at <= at:
        return None
    return session.exec(select(Account.id).where(Account.card_uid == device.last_card)).first()


def _fault_edge(session: Session, now: datetime, target: _Live, state: str | None) -> None:
    device = target.device
    if state == "fault":
        open_alert(
            session=session,
            now=now,
            kind=AlertKind.fault,
            subject=target.subject,
            message=f"{target.subject} reports a fault",
            site_id=device.site_id,
            resource_id=device.resource_id,
            device_id=device.id,
        )
    elif device.state == "fault":
        close_alert(session=session, now=now, kind=AlertKind.fault, subject=target.subject)


def _status(session: Session, now: datetime, target: _Live, status: Status) -> None:
    device = target.device
    if device.status_at is not None and status.ts < device.status_at:
        return
    device.status_at = status.ts
    if status.online:
        _seen(device, status.ts, now)
        device.online = True
        close_alert(session=session, now=now, kind=AlertKind.offline, subject=target.subject)
        return
    # `offline` is also the Last Will the broker sends for a device that vanished.
    device.online = False
    open_alert(
        session=session,
        now=now,
        kind=AlertKind.offline,
        subject=target.subject,
        message=f"{target.subject} went offline",
        site_id=device.site_id,
        resource_id=device.resource_id,
        device_id=device.id,
    )
    if target.usage is not None:
        end_usage(usage=target.usage, at=target.usage.last_sample_at, ended_by="offline")
        target.usage = None


def _event(target: _Live, event: Event, now: datetime) -> None:
    device = target.device
    _seen(device, event.ts, now)
    if event.type == "badge":
        if device.last_card_at is None or event.ts >= device.last_card_at:
            device.last_card, device.last_card_at = event.data["card"], event.ts
        return
    if event.type == "door":
        device.last_values = {**device.last_values, "door_open": event.data["open"]}
    elif event.type == "job":
        device.last_values = {**device.last_values, "job_phase": event.data["phase"]}


def _unknown_device(
    session: Session, now: datetime, key: tuple[str, str], batch: list[Message], root: str
) -> None:
    site_slug, device_slug = key
    subject = subject_of(site_slug, device_slug)
    site_id = session.exec(select(Site.id).where(Site.slug == site_slug)).first()
    open_alert(
        session=session,
        now=now,
        kind=AlertKind.unknown_device,
        subject=subject,
        message=f"messages from unregistered device {subject}",
        site_id=site_id,
    )
    dead_letters(
        session=session,
        now=now,
        letters=[(_topic(root, m), "unknown_device", _payload(m)) for m in batch],
        commit=False,
    )


_KINDS: dict[type, Kind] = {
    Telemetry: "telemetry",
    Event: "event",
    Status: "status",
    CommandAck: "cmd/ack",
}


def _topic(root: str, message: Message) -> str:
    return topic_for(root, message.site, message.device, _KINDS[type(message)])


def _payload(message: Message) -> bytes:
    """The message as it was sent, rebuilt from its decoded form."""
    if isinstance(message, Telemetry):
        return encode_telemetry(message.ts, message.state, message.metrics)
    if isinstance(message, Event):
        return encode_event(message.ts, message.type, **message.data)
    if isinstance(message, Status):
        return encode_status(message.online)
    return json.dumps({"id": message.id, "ok": message.ok}).encode()
