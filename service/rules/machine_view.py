"""What the staff's page of one machine shows: its bookings, runs and commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from ..errors import Forbidden, NotFound
from ..models import (
    BLOCKING,
    Account,
    Blackout,
    Device,
    DeviceCommand,
    Reservation,
    Resource,
    Site,
    UsageSession,
)
from .accounts import Principal

RECENT = 20


@dataclass(frozen=True)
class Listed:
    """A machine or room on the staff's list, with its device and whether it is closed now."""

    resource: Resource
    site: Site
    device: Device | None
    closed: bool


def machines_of(*, session: Session, actor: Principal, now: datetime) -> list[Listed]:
    """The active machines and rooms of the sites `actor` operates, by site, kind and name."""
    rows = session.exec(
        select(Resource, Site, Device)
        .join(Site, col(Site.id) == col(Resource.site_id))
        .join(Device, col(Device.resource_id) == col(Resource.id), isouter=True)
        .where(col(Resource.active).is_(True))
        .order_by(col(Site.id), col(Resource.kind), col(Resource.name), col(Device.id))
    ).all()
    closures = session.exec(
        select(Blackout.site_id, Blackout.resource_id).where(
            col(Blackout.start_at) <= now, col(Blackout.end_at) > now
        )
    ).all()
    closed_sites = {site_id for site_id, resource_id in closures if resource_id is None}
    closed = {resource_id for _, resource_id in closures}
    listed: dict[int, Listed] = {}
    for resource, site, device in rows:
        if site.id is None or not actor.operates(site.id) or resource.id in listed:
            continue
        shut = resource.id in closed or site.id in closed_sites
        listed[resource.id or 0] = Listed(resource, site, device, shut)
    return list(listed.values())


def machine_by_slug(
    *, session: Session, actor: Principal, site: str, slug: str
) -> tuple[Resource, Site]:
    """The active resource `slug` of site `site`, if `actor` operates that site."""
    row = session.exec(
        select(Resource, Site)
        .join(Site, col(Site.id) == col(Resource.site_id))
        .where(Site.slug == site, Resource.slug == slug)
    ).first()
    if row is None or not row[0].active:
        raise NotFound(f"no resource {site}/{slug}")
    if row[1].id is None or not actor.operates(row[1].id):
        raise Forbidden("only the site's operators and admins see this machine")
    return row


@dataclass(frozen=True)
class Booking:
    reservation: Reservation
    holder: str
    email: str


def bookings_in(
    *,
    session: Session,
    resource_id: int,
    start: datetime,
    end: datetime | None = None,
    limit: int = 100,
) -> list[Booking]:
    """The standing bookings of the resource ending after `start` (and beginning before
    `end`), soonest first, with who holds them."""
    query = (
        select(Reservation, Account)
        .join(Account, col(Account.id) == col(Reservation.account_id))
        .where(
            Reservation.resource_id == resource_id,
            col(Reservation.status).in_(BLOCKING),
            col(Reservation.end_at) > start,
        )
    )
    if end is not None:
        query = query.where(col(Reservation.start_at) < end)
    rows = session.exec(query.order_by(col(Reservation.start_at)).limit(limit)).all()
    return [Booking(r, a.name, a.email) for r, a in rows]


def current_and_next(
    *, session: Session, resource_id: int, now: datetime, ahead: int = 5
) -> list[Booking]:
    """The booking under way (if any) and the next `ahead` ones, with who holds them."""
    return bookings_in(session=session, resource_id=resource_id, start=now, limit=ahead + 1)


@dataclass(frozen=True)
class Run:
    usage: UsageSession
    holder: str | None

    @property
    def minutes(self) -> int:
        return round(self.usage.run_seconds / 60)

    @property
    def energy_kwh(self) -> float:
        return round(self.usage.energy_wh / 1000, 2)


def recent_runs(*, session: Session, resource_id: int, limit: int = RECENT) -> list[Run]:
    """The machine's newest usage sessions, with who ran them when known."""
    rows = session.exec(
        select(UsageSession, Account)
        .join(Account, col(Account.id) == col(UsageSession.account_id), isouter=True)
        .where(UsageSession.resource_id == resource_id)
        .order_by(col(UsageSession.start_at).desc())
        .limit(limit)
    ).all()
    return [Run(u, a.name if a is not None else None) for u, a in rows]


def recent_commands(
    *, session: Session, resource_id: int, limit: int = RECENT
) -> list[DeviceCommand]:
    """The newest commands sent (or to be sent) to the machine's devices."""
    return list(
        session.exec(
            select(DeviceCommand)
            .where(DeviceCommand.resource_id == resource_id)
            .order_by(col(DeviceCommand.id).desc())
            .limit(limit)
        )
    )
