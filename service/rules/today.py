"""A site's day as its operators see it: the day's bookings, walk-ins and what awaits approval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, select

from ..models import (
    Account,
    Reservation,
    ReservationStatus,
    Resource,
    Role,
    RoleName,
    Site,
    UsageSession,
)
from .accounts import Principal


@dataclass(frozen=True)
class Booked:
    """A reservation with who booked it and on what."""

    reservation: Reservation
    resource: Resource
    site: Site
    person: str


@dataclass(frozen=True)
class WalkIn:
    """A usage session nobody booked: someone tapped a card and started the machine."""

    session: UsageSession
    resource: Resource
    person: str


@dataclass(frozen=True)
class Day:
    """One site's day: its span in UTC, its bookings in order, and its walk-ins."""

    site: Site
    day: date
    start: datetime
    end: datetime
    bookings: list[Booked]
    walk_ins: list[WalkIn]

    @property
    def no_shows(self) -> list[Booked]:
        return [b for b in self.bookings if b.reservation.status == ReservationStatus.no_show]

    def count(self, status: ReservationStatus) -> int:
        return sum(1 for b in self.bookings if b.reservation.status == status)


def site_today(site: Site, now: datetime) -> date:
    """The date on the site's clocks at `now`."""
    return now.astimezone(site.zone).date()


def day_span(site: Site, day: date) -> tuple[datetime, datetime]:
    """The UTC span of `day` on the site's clocks (23 or 25 hours across a clock change)."""
    start = datetime.combine(day, time(0), site.zone)
    end = datetime.combine(day + timedelta(days=1), time(0), site.zone)
    return start, end


def site_day(*, session: Session, site: Site, day: date) -> Day:
    """Every reservation touching `day` at `site` (any status) and the day's walk-ins."""
    start, end = day_span(site, day)
    rows = session.exec(
        select(Reservation, Resource, Account)
        .join(Resource, col(Resource.id) == col(Reservation.resource_id))
        .join(Account, col(Account.id) == col(Reservation.account_id))
        .where(
            Resource.site_id == site.id,
            col(Reservation.start_at) < end,
            col(Reservation.end_at) > start,
        )
        .order_by(col(Reservation.start_at), col(Resource.id))
    ).all()
    bookings = [Booked(r, resource, site, account.name) for r, resource, account in rows]
    walked = session.exec(
        select(UsageSession, Resource, Account)
        .join(Resource, col(Resource.id) == col(UsageSession.resource_id))
        .outerjoin(Account, col(Account.id) == col(UsageSession.account_id))
        .where(
            Resource.site_id == site.id,
            col(UsageSession.walk_in).is_(True),
            col(UsageSession.start_at) < end,
            col(UsageSession.start_at) >= start,
        )
        .order_by(col(UsageSession.start_at))
    ).all()
    walk_ins = [
        WalkIn(u, resource, account.name if account else "") for u, resource, account in walked
    ]
    return Day(site, day, start, end, bookings, walk_ins)


def pending_approvals(*, session: Session, actor: Principal, now: datetime) -> list[Booked]:
    """Bookings still awaiting a decision at the sites `actor` operates, soonest first."""
    query = (
        select(Reservation, Resource, Site, Account)
        .join(Resource, col(Resource.id) == col(Reservation.resource_id))
        .join(Site, col(Site.id) == col(Resource.site_id))
        .join(Account, col(Account.id) == col(Reservation.account_id))
        .where(
            col(Reservation.status) == ReservationStatus.pending,
            col(Reservation.end_at) > now,
        )
    )
    if not actor.admin:
        query = query.where(col(Resource.site_id).in_(actor.operator_sites))
    rows = session.exec(query.order_by(col(Reservation.start_at))).all()
    return [Booked(r, resource, site, account.name) for r, resource, site, account in rows]


def bookable_people(*, session: Session) -> list[Account]:
    """The active makers an operator may book for, by name."""
    makers = select(Role.account_id).where(Role.role == RoleName.maker)
    return list(
        session.exec(
            select(Account)
            .where(col(Account.active).is_(True), col(Account.id).in_(makers))
            .order_by(col(Account.name), col(Account.id))
        )
    )
