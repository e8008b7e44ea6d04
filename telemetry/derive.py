"""What device messages mean in SQL: live status, usage sessions, alerts, dead letters.

The listener writes a batch's points to the telemetry store, then calls `apply`.
Every message of a device is applied in time order, under a lock on the device
row, and only if it is newer than what the device already applied: duplicates
and stragglers (QoS 1 redelivery, a second listener, a device replaying its
buffer) leave sessions and status as they are.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
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
    topic_for,
)
from service.db import begin_write
from service.models import (
    ENTITLING,
    Account,
    AlertKind,
    Device,
    Reservation,
    Site,
    UsageSession,
)
from service.rules.holding import holds, reservation_holds
from service.rules.unknown_devices import note_unknown_devices

from .batch import (
    BatchAlerts,
    DeviceKey,
    DeviceState,
    LiveDevice,
    Run,
    write_live,
    write_runs,
)
from .deadletters import dead_letter, dead_letters
from .directory import DeviceTags, points_for
from .senders import screen

__all__ = ["DeviceTags", "apply", "dead_letter", "dead_letters", "points_for"]

log = logging.getLogger(__name__)

# A badge tap this long before a machine starts names who started it.
BADGE_WINDOW = timedelta(minutes=10)


def apply(
    *, session: Session, now: datetime, messages: Sequence[Message], root: str = "smartfab"
) -> int:
    """Apply a batch of decoded messages to device status, usage and alerts; the caller commits.

    Messages of unknown devices, and those the server refuses from known ones (a spoofed
    ack, a badge from an unbound reader), change nothing and become dead letters; returns
    how many did. `root` (the MQTT topic root) only names the topic of dead letters.
    """
    if not messages:
        return 0
    begin_write(session)
    by_device: dict[tuple[str, str], list[Message]] = defaultdict(list)
    for message in messages:
        by_device[(message.site, message.device)].append(message)
    with session.no_autoflush:
        live = _lock_devices(session, by_device.keys(), messages)
        alerts = BatchAlerts(session, now, [target.subject for target in live.values()])
        unknown = {key: batch for key, batch in by_device.items() if key not in live}
        _unknown_devices(session, now, unknown, root)
        refused = screen(session=session, live=live, by_device=by_device)
        dead_letters(
            session=session,
            now=now,
            letters=[(_topic(root, m), reason, m.payload) for m, reason in refused],
        )
        for key, batch in by_device.items():
            target = live.get(key)
            if target is None:
                continue
            target.alerts = alerts
            # sorted() is stable: same-time messages keep their arrival order.
            for message in sorted(batch, key=lambda m: m.ts):
                _apply_one(session, now, target, message)
        alerts.save()
        write_runs(session, live.values())
        write_live(session, live.values())
    return sum(len(batch) for batch in unknown.values()) + len(refused)


def _lock_devices(
    session: Session, keys: Iterable[tuple[str, str]], messages: Sequence[Message]
) -> dict[tuple[str, str], LiveDevice]:
    wanted = list(keys)
    rows = session.exec(
        select(  # type: ignore[call-overload]  # sqlmodel types at most 4 columns
            Device.id,
            Device.site_id,
            Device.resource_id,
            Device.slug,
            Site.slug,
            *DeviceState.columns(),
        )
        .join(Site, col(Site.id) == Device.site_id)
        .where(tuple_(col(Site.slug), col(Device.slug)).in_(wanted))
        .order_by(col(Device.id))
        .with_for_update(of=Device)
    ).all()
    keys_and_states = [(DeviceKey(*row[:5]), DeviceState.of(row[5:])) for row in rows]
    resource_ids = {key.resource_id for key, _ in keys_and_states if key.resource_id is not None}
    runs = {
        row[0]: Run.of_row(row[1:])
        for row in session.exec(
            select(*Run.columns()).where(
                col(UsageSession.device_id).in_([key.id for key, _ in keys_and_states]),
                col(UsageSession.end_at).is_(None),
            )
        )
    }
    entitling: dict[int, list[Reservation]] = defaultdict(list)
    for reservation in session.exec(
        select(Reservation)
        .where(
            col(Reservation.resource_id).in_(resource_ids),
            holds(
                min(m.ts for m in messages),
                through=max(m.ts for m in messages),
                statuses=ENTITLING,
                check_in=True,
            ),
        )
        .order_by(col(Reservation.start_at))
    ):
        entitling[reservation.resource_id].append(reservation)
    return {
        (key.site_slug, key.slug): LiveDevice(
            key, state, runs.get(key.id), entitling.get(key.resource_id or 0, [])
        )
        for key, state in keys_and_states
    }


def _apply_one(session: Session, now: datetime, target: LiveDevice, message: Message) -> None:
    if isinstance(message, Telemetry):
        _telemetry(session, now, target, message)
    elif isinstance(message, Status):
        _status(session, now, target, message)
    elif isinstance(message, Event):
        _event(target, message, now)
    elif isinstance(message, CommandAck):
        _seen(target.live, message.ts, now)


def _seen(live: DeviceState, ts: datetime, now: datetime) -> None:
    ts = min(ts, now)
    if live.last_seen is None or ts > live.last_seen:
        live.last_seen = ts


def _telemetry(session: Session, now: datetime, target: LiveDevice, sample: Telemetry) -> None:
    live = target.live
    if live.last_ts is not None and sample.ts <= live.last_ts:
        return  # a duplicate or a straggler: stored as a point, but no edge moves
    _seen(live, sample.ts, now)
    if not live.online and (live.status_at is None or sample.ts > live.status_at):
        live.online = True
        target.alerts.clear(target, AlertKind.offline)
    previous = live.last_values
    state = sample.state if sample.state is not None else live.state
    if target.run is not None:
        _accumulate(target.run, previous, sample)
    if state == "running" and target.run is None and target.key.resource_id is not None:
        target.run = Run.started(_start_usage(session, target, sample.ts))
    elif state != "running" and target.run is not None:
        target.run.end(session, at=sample.ts, ended_by="state")
        target.alerts.clear(target, AlertKind.unauthorised_use)
        target.run = None
    if state != live.state:
        _fault_edge(target, state)
        live.state, live.state_since = state, sample.ts
    values = {**previous, **sample.metrics}
    if sample.state is not None:
        values["state"] = sample.state
    live.last_values = values
    live.last_ts = sample.ts


def _accumulate(run: Run, previous: dict[str, Any], sample: Telemetry) -> None:
    """Fold the interval since the session's last sample into run time and energy."""
    if sample.ts <= run.last_sample_at:
        return
    hours = (sample.ts - run.last_sample_at).total_seconds() / 3600
    meter, last_meter = sample.metrics.get("energy_wh"), previous.get("energy_wh")
    if isinstance(last_meter, int | float):
        # A sample without a reading leaves its interval to the meter's next one.
        if meter is not None:
            # A meter that went backwards was reset: it counts from zero again.
            run.energy_wh += meter - last_meter if meter >= last_meter else meter
    elif isinstance(previous.get("power_w"), int | float):
        # Power is sampled: hold the previous reading over the interval.
        run.energy_wh += max(0.0, float(previous["power_w"])) * hours
    run.last_sample_at = sample.ts


def _start_usage(session: Session, target: LiveDevice, at: datetime) -> UsageSession:
    key = target.key
    usage = UsageSession(
        resource_id=key.resource_id or 0,
        device_id=key.id,
        start_at=at,
        last_sample_at=at,
    )
    # The holder may start once the check-in window opens, as the badge lets them in; a
    # reservation already under way comes first, as the list is in start order.
    reservation = next(
        (
            r
            for r in target.reservations
            if reservation_holds(r, at, statuses=ENTITLING, check_in=True)
        ),
        None,
    )
    if reservation is not None:
        usage.reservation_id, usage.account_id = reservation.id, reservation.account_id
        # A walk-in is booked too: the badge reader creates its reservation.
        usage.walk_in = reservation.walk_in
    else:
        # Walk-ins allowed or not, a run nobody booked (no badge, or a denied one) is
        # unauthorised; a recent badge tap still names who was there.
        usage.account_id = _badge_holder(session, target.live, at)
        usage.unauthorised = True
        target.alerts.raise_(
            target,
            AlertKind.unauthorised_use,
            f"{target.subject} running since {at.isoformat()} without a reservation",
        )
    session.add(usage)
    return usage


def _badge_holder(session: Session, live: DeviceState, at: datetime) -> int | None:
    if live.last_card is None or live.last_card_at is None:
        return None
    if not at - BADGE_WINDOW <= live.last_card_at <= at:
        return None
    return session.exec(select(Account.id).where(Account.card_uid == live.last_card)).first()


def _fault_edge(target: LiveDevice, state: str | None) -> None:
    if state == "fault":
        target.alerts.raise_(target, AlertKind.fault, f"{target.subject} reports a fault")
    elif target.live.state == "fault":
        target.alerts.clear(target, AlertKind.fault)


def _status(session: Session, now: datetime, target: LiveDevice, status: Status) -> None:
    live = target.live
    if live.status_at is not None and status.ts < live.status_at:
        return
    live.status_at = status.ts
    if status.online:
        _seen(live, status.ts, now)
        live.online = True
        target.alerts.clear(target, AlertKind.offline)
        return
    live.online = False
    # The one rule on planned stops: a device that said `stopped` itself went offline on
    # purpose (a demo or maintenance shutdown), so no alert; `offline` is the Last Will the
    # broker sends for a device that vanished, and that is one.
    if status.planned:
        target.alerts.clear(target, AlertKind.offline)
    else:
        target.alerts.raise_(target, AlertKind.offline, f"{target.subject} went offline")
    if target.run is not None:
        target.run.end(session, at=target.run.last_sample_at, ended_by="offline")
        target.run = None


def _event(target: LiveDevice, event: Event, now: datetime) -> None:
    live = target.live
    _seen(live, event.ts, now)
    if event.type == "badge":
        if live.last_card_at is None or event.ts >= live.last_card_at:
            live.last_card, live.last_card_at = event.data["card"], event.ts
        return
    if event.type == "door":
        live.last_values = {**live.last_values, "door_open": event.data["open"]}
    elif event.type == "job":
        live.last_values = {**live.last_values, "job_phase": event.data["phase"]}


def _unknown_devices(
    session: Session, now: datetime, unknown: dict[tuple[str, str], list[Message]], root: str
) -> None:
    if not unknown:
        return
    seen = {key: len(batch) for key, batch in unknown.items()}
    for group in note_unknown_devices(session=session, now=now, seen=seen):
        # Counted under the alert's subject: one counter per site, as there is one alert;
        # only the alert's first KEPT_LETTERS messages are kept as rows.
        dead_letters(
            keep=group.letters_to_keep,
            session=session,
            now=now,
            letters=[
                (_topic(root, m), "unknown_device", m.payload)
                for key in group.devices
                for m in unknown[key]
            ],
            count_as=group.alert.subject,
        )


_KINDS: dict[type, Kind] = {
    Telemetry: "telemetry",
    Event: "event",
    Status: "status",
    CommandAck: "cmd/ack",
}


def _topic(root: str, message: Message) -> str:
    return topic_for(root, message.site, message.device, _KINDS[type(message)])
