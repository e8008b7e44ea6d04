"""The operator's floor: what each machine and room of a site is doing now, and its alerts.

The view reads each resource's live status (its device, its running usage session, its
open alerts) and hands it here; this adds the bookings and blackouts of the moment and
decides one state per tile. `device_marks` is the cheap question a live floor asks
twice a second: which devices changed since it last looked.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import or_
from sqlmodel import Session, col, select

from ..models import (
    Account,
    Alert,
    Blackout,
    Device,
    Reservation,
    ReservationStatus,
    Resource,
    ResourceKind,
    Site,
    UsageSession,
)
from .holding import holds
from .tenancy import let_to_others


class FloorState(StrEnum):
    """A tile's state, in the order it wins: a blackout hides everything, then no signal…"""

    blacked_out = "blacked_out"
    offline = "offline"
    fault = "fault"
    running = "running"
    occupied = "occupied"
    reserved = "reserved"
    # A room let to a tenant today and not in use now: not free to walk into.
    rented = "rented"
    idle = "idle"
    free = "free"


class Live(Protocol):
    """What the floor needs of a resource's live status (telemetry's `LiveStatus`)."""

    @property
    def resource(self) -> Resource: ...
    @property
    def site(self) -> Site: ...
    @property
    def device(self) -> Device | None: ...
    @property
    def usage(self) -> UsageSession | None: ...
    @property
    def alerts(self) -> list[Alert]: ...


@dataclass(frozen=True)
class Tile:
    """One machine or room as the floor shows it; every value ready to print."""

    resource: Resource
    site: Site
    state: FloorState
    user: str | None
    # The reservation holding the resource now: when it ends, and how long is left.
    ends_at: datetime | None
    remaining: timedelta | None
    power_w: float | None
    last_seen_age: timedelta | None
    alerts: int


# A device's columns the listener and the scheduler move; any change redraws its tile.
Mark = tuple[Any, ...]


def device_marks(*, session: Session, site_id: int) -> dict[int, Mark]:
    """Per resource of the site: the columns of its device that a change moves."""
    devices = session.exec(
        select(Device).where(Device.site_id == site_id, col(Device.resource_id).is_not(None))
    )
    return {
        d.resource_id: (d.last_seen, d.online, d.state, d.state_since, d.status_at)
        for d in devices
        if d.resource_id is not None
    }


def site_alerts(*, session: Session, site_id: int, limit: int = 50) -> list[Alert]:
    """The site's open alerts, newest first."""
    return list(
        session.exec(
            select(Alert)
            .where(Alert.site_id == site_id, col(Alert.closed_at).is_(None))
            .order_by(col(Alert.opened_at).desc(), col(Alert.id).desc())
            .limit(limit)
        )
    )


def floor_tiles(
    *,
    session: Session,
    now: datetime,
    lives: Sequence[Live],
    kind: ResourceKind | None = None,
) -> list[Tile]:
    """A tile per live status (of `kind`, if given), in the order given."""
    lives = [live for live in lives if kind is None or live.resource.kind == kind]
    ids = [live.resource.id for live in lives if live.resource.id is not None]
    site_ids = {live.site.id for live in lives if live.site.id is not None}
    holding = _holding(session, now, ids)
    dark_resources, dark_sites = _blacked_out(session, now, ids, site_ids)
    # Nobody's tenancy (no account): every contract of the moment counts.
    let = let_to_others(
        session=session,
        resources=[
            (live.resource, live.site) for live in lives if live.resource.kind == ResourceKind.room
        ],
        account_id=None,
        start=now,
        end=now + timedelta(seconds=1),
    )
    names = _names(
        session,
        [live.usage.account_id for live in lives if live.usage and live.usage.account_id]
        + [r.account_id for r in holding.values()],
    )
    tiles = []
    for live in lives:
        rid = live.resource.id or 0
        reservation = holding.get(rid)
        user_id = (live.usage.account_id if live.usage else None) or (
            reservation.account_id if reservation else None
        )
        device = live.device
        # A device that went quiet has no power reading now, only an old one.
        power = (device.last_values or {}).get("power_w") if device and device.online else None
        tiles.append(
            Tile(
                resource=live.resource,
                site=live.site,
                state=_state(
                    live,
                    reservation,
                    rid in dark_resources or live.site.id in dark_sites,
                    any(iv.start <= now < iv.end for iv in let.get(rid, [])),
                ),
                user=names.get(user_id) if user_id else None,
                ends_at=reservation.end_at if reservation else None,
                remaining=reservation.end_at - now if reservation else None,
                power_w=float(power) if isinstance(power, int | float) else None,
                last_seen_age=max(now - device.last_seen, timedelta(0))
                if device and device.last_seen
                else None,
                alerts=len(live.alerts),
            )
        )
    return tiles


def _state(live: Live, reservation: Reservation | None, dark: bool, let: bool) -> FloorState:
    device = live.device
    room = live.resource.kind == ResourceKind.room
    if dark:
        return FloorState.blacked_out
    if device is None or not device.online:
        return FloorState.offline
    if device.state == "fault":
        return FloorState.fault
    if room and (live.usage is not None or (device.last_values or {}).get("occupied")):
        return FloorState.occupied
    if not room and device.state == "running":
        return FloorState.running
    if reservation is not None and reservation.status != ReservationStatus.active:
        return FloorState.reserved
    if reservation is not None:
        # Checked in, but the machine is not running (yet, or between jobs).
        return FloorState.occupied if room else FloorState.idle
    if room and let:
        return FloorState.rented
    return FloorState.free if room else FloorState.idle


def _holding(session: Session, now: datetime, ids: Collection[int]) -> dict[int, Reservation]:
    """The reservation that holds each resource now (its check-in window counts)."""
    if not ids:
        return {}
    rows = session.exec(
        select(Reservation)
        .where(col(Reservation.resource_id).in_(ids), holds(now, check_in=True))
        .order_by(col(Reservation.start_at))
    )
    found: dict[int, Reservation] = {}
    for reservation in rows:
        found.setdefault(reservation.resource_id, reservation)
    return found


def _blacked_out(
    session: Session, now: datetime, ids: Collection[int], site_ids: Collection[int]
) -> tuple[set[int], set[int]]:
    """Resource ids under a blackout now, and the ids of sites closed as a whole."""
    if not ids:
        return set(), set()
    rows = session.exec(
        select(Blackout.resource_id, Blackout.site_id).where(
            col(Blackout.start_at) <= now,
            col(Blackout.end_at) > now,
            or_(
                col(Blackout.resource_id).in_(ids),
                col(Blackout.resource_id).is_(None) & col(Blackout.site_id).in_(site_ids),
            ),
        )
    )
    resources: set[int] = set()
    sites: set[int] = set()
    for resource_id, site_id in rows:
        if resource_id is None:
            sites.add(site_id)
        else:
            resources.add(resource_id)
    return resources, sites


def _names(session: Session, account_ids: Collection[int]) -> dict[int, str]:
    if not account_ids:
        return {}
    rows = session.exec(
        select(Account.id, Account.name).where(col(Account.id).in_(set(account_ids)))
    )
    return {account_id: name for account_id, name in rows if account_id is not None}
