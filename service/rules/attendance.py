"""Who turned up: check-in from telemetry, no-shows, and rooms in use without a booking."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_
from sqlmodel import Session, col, select

from ..db import begin_write
from ..errors import DomainError
from ..models import (
    Account,
    AlertKind,
    Device,
    Reservation,
    ReservationStatus,
    Resource,
    ResourceKind,
    Site,
    UsageSession,
)
from .accounts import principal_for
from .devices import open_alert, subject_of
from .holding import check_in_opens, holds
from .lifecycle import check_in, transition_many

# Room sensors report presence under either of these metrics.
OCCUPANCY = ("occupied", "people")


def occupied(values: dict[str, object]) -> bool:
    return any(
        isinstance(values.get(name), int | float) and float(values[name]) > 0  # type: ignore[arg-type]
        for name in OCCUPANCY
    )


def check_in_from_telemetry(*, session: Session, now: datetime) -> list[int]:
    """Check in the reservations whose machine ran, or whose room was occupied, in their slot.

    Goes through `lifecycle.check_in` on behalf of the booker, so the rule is the same as
    a check-in in the app.
    """
    ran = exists().where(
        col(UsageSession.resource_id) == col(Reservation.resource_id),
        or_(
            col(UsageSession.reservation_id) == col(Reservation.id),
            and_(
                col(UsageSession.start_at) >= col(Reservation.start_at),
                col(UsageSession.start_at) < col(Reservation.end_at),
            ),
        ),
    )
    waiting = (
        select(Reservation, Resource)
        .join(Resource, col(Resource.id) == col(Reservation.resource_id))
        .where(holds(now, statuses=(ReservationStatus.confirmed,), check_in=True))
    )
    machines = session.exec(waiting.where(Resource.kind == ResourceKind.machine, ran)).all()
    rooms = [
        pair
        for pair in session.exec(waiting.where(Resource.kind == ResourceKind.room)).all()
        if _room_in_use(session, pair[1], since=check_in_opens(pair[0]))
    ]
    found = [*machines, *rooms]
    if found:
        begin_write(session)
    checked = []
    for reservation, _resource in found:
        account = session.get(Account, reservation.account_id)
        if account is None:
            continue
        try:
            # One savepoint per check-in: a refused one leaves the others standing.
            with session.begin_nested():
                check_in(
                    session=session,
                    now=now,
                    actor=principal_for(session=session, account=account),
                    reservation_id=reservation.id or 0,
                )
        except DomainError:
            continue
        checked.append(reservation.id or 0)
    return checked


def _room_in_use(session: Session, resource: Resource, *, since: datetime) -> bool:
    for device in session.exec(select(Device).where(Device.resource_id == resource.id)):
        if device.last_ts is not None and device.last_ts >= since and occupied(device.last_values):
            return True
    return False


def mark_no_shows(*, session: Session, now: datetime, after: timedelta) -> list[int]:
    """Confirmed reservations not checked in `after` their start become no-shows.

    The slot is free again at once (a no-show does not block), and the status is what
    billing charges a no-show fee on. Claimed in one conditional UPDATE.
    """
    return transition_many(
        session=session,
        now=now,
        where=(
            col(Reservation.status) == ReservationStatus.confirmed,
            col(Reservation.checked_in_at).is_(None),
            or_(
                col(Reservation.start_at) <= now - after,
                col(Reservation.end_at) <= now,
            ),
        ),
        status=ReservationStatus.no_show,
        action="no_show",
        released_at=now,
    )


def next_no_show(*, session: Session, now: datetime, after: timedelta) -> datetime | None:
    """When the next waiting reservation turns into a no-show."""
    start: datetime | None = session.exec(
        select(Reservation.start_at)
        .where(
            col(Reservation.status) == ReservationStatus.confirmed,
            col(Reservation.checked_in_at).is_(None),
            col(Reservation.start_at) > now - after,
        )
        .order_by(col(Reservation.start_at))
        .limit(1)
    ).first()
    return start + after if start is not None else None


def unbooked_rooms_in_use(*, session: Session, now: datetime, fresh: timedelta) -> int:
    """Raise an alert for each room whose sensor reports people and that nobody booked;
    returns how many such rooms there are (their alert stays open while they are)."""
    booked = exists().where(
        col(Reservation.resource_id) == col(Resource.id), holds(now, check_in=True)
    )
    rows = session.exec(
        select(Device, Resource, Site)
        .join(Resource, col(Resource.id) == col(Device.resource_id))
        .join(Site, col(Site.id) == col(Device.site_id))
        .where(
            Resource.kind == ResourceKind.room,
            col(Device.last_ts) >= now - fresh,
            ~booked,
        )
    ).all()
    raised = 0
    for device, resource, site in rows:
        if not occupied(device.last_values):
            continue
        raised += 1
        open_alert(
            session=session,
            now=now,
            kind=AlertKind.unauthorised_use,
            subject=subject_of(site.slug, device.slug),
            message=f"{resource.name} is occupied without a booking",
            site_id=site.id,
            resource_id=resource.id,
            device_id=device.id,
        )
    return raised
