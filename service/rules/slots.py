"""Time-slot enforcement: which commands each reservation's machine is due, from the DB alone.

The start of a confirmed reservation enables its machine until the end, a warning
goes out `warn_before_end_min` before the end, and the end disables it (after a
grace if it is still running: an overstay). Everything is derived from the
reservations and the commands already recorded, so after downtime a pass catches
up: overdue machines are disabled, stale warnings are not sent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, exists, func, or_
from sqlmodel import Session, col, select

from ..models import (
    ENTITLING,
    FINISHED,
    AlertKind,
    CommandState,
    DeviceCommand,
    Reservation,
    ReservationStatus,
    Resource,
    ResourceKind,
    Site,
)
from ..models.telemetry import Device
from .commands import CommandSpec
from .devices import open_alert, subject_of
from .holding import holds
from .lifecycle import transition_many
from .sitetime import local_clock

# A machine whose reservation ended longer ago than this is left to the operators.
CATCH_UP = timedelta(days=7)


@dataclass(frozen=True)
class SlotPolicy:
    warn_before: timedelta
    grace: timedelta


def _stamp(moment: datetime) -> int:
    return int(moment.timestamp())


def _sent(action: str, *, until_matches: bool) -> Any:
    """EXISTS a command of `action` for the row's reservation and device."""
    clause = and_(
        col(DeviceCommand.reservation_id) == col(Reservation.id),
        col(DeviceCommand.device_id) == col(Device.id),
        col(DeviceCommand.action) == action,
    )
    if until_matches:
        clause = and_(clause, col(DeviceCommand.until) == col(Reservation.end_at))
    return exists().where(clause)


def _machines() -> Any:
    return (
        select(Reservation, Device, Site)
        .join(Resource, col(Resource.id) == col(Reservation.resource_id))
        .join(Device, col(Device.resource_id) == col(Reservation.resource_id))
        .join(Site, col(Site.id) == col(Resource.site_id))
        .where(Resource.kind == ResourceKind.machine)
    )


def due_enables(*, session: Session, now: datetime) -> list[CommandSpec]:
    """An `enable` until the end for every running reservation whose machine lacks one.

    An extension moves the end, so the machine gets a new enable with the new `until`.
    """
    query = _machines().where(
        holds(now, statuses=ENTITLING),
        ~_sent("enable", until_matches=True),
    )
    return [
        _until_end("enable", r, d, now, f"reserved until {local_clock(r.end_at, site)}")
        for r, d, site in session.exec(query)
    ]


def due_warnings(*, session: Session, now: datetime, policy: SlotPolicy) -> list[CommandSpec]:
    """A `warn` once the end is near; none after the end (it would only confuse)."""
    if not policy.warn_before:
        return []
    query = _machines().where(
        holds(now, statuses=ENTITLING),
        Reservation.end_at <= now + policy.warn_before,
        ~_sent("warn", until_matches=True),
    )
    return [
        _until_end("warn", r, d, now, f"reservation ends at {local_clock(r.end_at, site)}")
        for r, d, site in session.exec(query)
    ]


def _until_end(action: str, r: Reservation, d: Device, now: datetime, message: str) -> CommandSpec:
    """A command about the reservation's end: keyed by it, so a moved end is a new command."""
    return CommandSpec(
        key=f"{action}:{r.id}:{d.id}:{_stamp(r.end_at)}",
        device_id=cast(int, d.id),  # a stored row's id
        resource_id=r.resource_id,
        reservation_id=r.id,
        action=action,
        until=r.end_at,
        due_at=now,
        message=message,
    )


def due_disables(*, session: Session, now: datetime, policy: SlotPolicy) -> list[CommandSpec]:
    """A `disable` for every machine enabled for a reservation that is over.

    A machine still running at the end gets the grace and an overstay alert; one whose
    next reservation has begun is handed over (its enable follows), not switched off,
    but if it is still running and the next booker is someone else, it is an overstay too.
    """
    query = _machines().where(
        or_(col(Reservation.end_at) <= now, col(Reservation.status).in_(FINISHED)),
        Reservation.end_at > now - CATCH_UP,
        _sent("enable", until_matches=False),
        ~_sent("disable", until_matches=False),
    )
    rows = list(session.exec(query))
    if not rows:
        return []
    taken = _taken_now(session=session, now=now, resource_ids={r.resource_id for r, _, _ in rows})
    specs = []
    for r, d, site in rows:
        spec = CommandSpec(
            key=f"disable:{r.id}:{d.id}",
            device_id=d.id,
            resource_id=r.resource_id,
            reservation_id=r.id,
            action="disable",
            due_at=now,
            message="reservation over",
        )
        overstaying = d.state == "running" and r.end_at <= now and r.released_at is None
        holder = taken.get(r.resource_id)
        outcome = None
        if holder is not None:
            spec = replace(
                spec, state=CommandState.superseded, message="handed over to the next booking"
            )
            if overstaying and holder != r.account_id:
                outcome = "handed over to the next booking"
        elif overstaying:
            until = r.end_at + policy.grace
            spec = replace(
                spec, due_at=max(now, until), message=f"overstay: off at {local_clock(until, site)}"
            )
            if until > now:
                outcome = f"switched off at {local_clock(until, site)}"
        if outcome is not None:
            _overstay(session=session, now=now, reservation=r, device=d, site=site, outcome=outcome)
        specs.append(spec)
    return specs


def _overstay(
    *,
    session: Session,
    now: datetime,
    reservation: Reservation,
    device: Device,
    site: Site,
    outcome: str,
) -> None:
    open_alert(
        session=session,
        now=now,
        kind=AlertKind.overstay,
        subject=subject_of(site.slug, device.slug),
        message=(
            f"still running after reservation {reservation.id} ended at "
            f"{local_clock(reservation.end_at, site)}; {outcome}"
        ),
        site_id=site.id,
        resource_id=reservation.resource_id,
        device_id=device.id,
    )


def _taken_now(*, session: Session, now: datetime, resource_ids: set[int]) -> dict[int, int]:
    """The account holding each of these resources whose next reservation has begun."""
    return dict(
        session.exec(
            select(Reservation.resource_id, Reservation.account_id).where(
                col(Reservation.resource_id).in_(resource_ids), holds(now, statuses=ENTITLING)
            )
        ).all()
    )


def complete_ended(*, session: Session, now: datetime) -> list[int]:
    """Checked-in reservations whose end has passed become completed (claimed in one UPDATE)."""
    return transition_many(
        session=session,
        now=now,
        where=(
            col(Reservation.status) == ReservationStatus.active,
            col(Reservation.end_at) <= now,
        ),
        status=ReservationStatus.completed,
        action="complete",
    )


def next_boundary(*, session: Session, now: datetime, policy: SlotPolicy) -> datetime | None:
    """The next moment a reservation starts, nears its end or ends (for a timely wake-up)."""
    running = col(Reservation.status).in_(ENTITLING)
    candidates = [
        select(func.min(Reservation.start_at)).where(running, Reservation.start_at > now),
        select(func.min(Reservation.end_at)).where(running, Reservation.end_at > now),
    ]
    if policy.warn_before:
        candidates.append(
            select(func.min(Reservation.end_at)).where(
                running, Reservation.end_at > now + policy.warn_before
            )
        )
    found = [session.execute(q).scalar() for q in candidates]
    if policy.warn_before and found[-1] is not None:
        found[-1] = found[-1] - policy.warn_before
    moments = [m for m in found if m is not None]
    return min(moments) if moments else None
