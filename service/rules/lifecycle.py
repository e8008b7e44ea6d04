"""Reading, moving, cancelling and running reservations."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from ..db import begin_write
from ..errors import Conflict, Forbidden, NotFound, RuleViolation
from ..models import Reservation, ReservationStatus, ReservationUpdate, Resource
from .accounts import Principal
from .audit import record
from .booking import Target, check_booking, flush_or_conflict, needs_approval
from .catalogue import load_resource
from .holding import CHECK_IN_EARLY, reservation_holds


def visible_reservations(actor: Principal) -> SelectOfScalar[Reservation]:
    """A select of the reservations `actor` may see."""
    query = select(Reservation).join(Resource, col(Resource.id) == col(Reservation.resource_id))
    if actor.admin:
        return query
    if actor.operator_sites:
        return query.where(
            or_(
                col(Reservation.account_id) == actor.id,
                col(Resource.site_id).in_(actor.operator_sites),
            )
        )
    return query.where(Reservation.account_id == actor.id)


def get_reservation(
    *, session: Session, actor: Principal, reservation_id: int, for_update: bool = False
) -> Reservation:
    """The reservation, if it exists and the actor may see it; else NotFound.

    `for_update` locks its row (PostgreSQL) so that a concurrent change, e.g. the
    scheduler marking a no-show, cannot be overwritten by a stale read.
    """
    query = visible_reservations(actor).where(Reservation.id == reservation_id)
    if for_update:
        # populate_existing: the locked row replaces any copy the session already holds.
        query = query.with_for_update(of=Reservation).execution_options(populate_existing=True)
    found = session.exec(query).first()
    if found is None:
        raise NotFound(f"no reservation {reservation_id}")
    return found


def list_reservations(
    *,
    session: Session,
    actor: Principal,
    mine: bool,
    start: datetime | None,
    end: datetime | None,
    resource_id: int | None = None,
    status: ReservationStatus | None = None,
    limit: int = 500,
) -> list[Reservation]:
    query = visible_reservations(actor)
    if mine:
        query = query.where(Reservation.account_id == actor.id)
    if start is not None:
        query = query.where(Reservation.end_at > start)
    if end is not None:
        query = query.where(Reservation.start_at < end)
    if resource_id is not None:
        query = query.where(Reservation.resource_id == resource_id)
    if status is not None:
        query = query.where(Reservation.status == status)
    return list(session.exec(query.order_by(col(Reservation.start_at)).limit(limit)))


def _for_change(
    *,
    session: Session,
    actor: Principal,
    reservation_id: int,
    allowed: tuple[ReservationStatus, ...],
) -> tuple[Reservation, Target]:
    begin_write(session)
    reservation = get_reservation(
        session=session, actor=actor, reservation_id=reservation_id, for_update=True
    )
    resource, site = load_resource(session=session, resource_id=reservation.resource_id)
    if reservation.account_id != actor.id and not actor.operates(site.id or 0):
        raise Forbidden("only the booker or an operator of the site may change this reservation")
    if reservation.status not in allowed:
        raise Conflict(
            f"a {reservation.status.value} reservation cannot be changed this way",
            {"status": reservation.status.value},
            code="invalid_state",
        )
    return reservation, Target(resource, site, reservation.account_id)


def _touch(reservation: Reservation, now: datetime) -> None:
    reservation.sequence += 1
    reservation.updated_at = now


def _reschedule(
    *,
    session: Session,
    now: datetime,
    reservation: Reservation,
    target: Target,
    start: datetime,
    end: datetime,
    new_start: bool = True,
    walk_in: bool = False,
) -> None:
    check_booking(
        session=session,
        now=now,
        target=target,
        start=start,
        end=end,
        ignore_reservation_id=reservation.id,
        new_start=new_start,
        walk_in=walk_in,
    )
    reservation.start_at, reservation.end_at = start, end
    reservation.blocked_until = end + timedelta(minutes=target.resource.buffer_minutes)
    _touch(reservation, now)
    session.add(reservation)
    flush_or_conflict(session, reservation)


def move_reservation(
    *,
    session: Session,
    now: datetime,
    actor: Principal,
    reservation_id: int,
    data: ReservationUpdate,
) -> Reservation:
    """Change times or note; new times meet the same rules as a new booking."""
    reservation, target = _for_change(
        session=session,
        actor=actor,
        reservation_id=reservation_id,
        allowed=(ReservationStatus.pending, ReservationStatus.confirmed),
    )
    if data.override_reason:
        if not actor.operates(target.site.id or 0):
            raise Forbidden("only an operator of this site may override booking rules")
        target = Target(target.resource, target.site, target.account_id, data.override_reason)
    if data.note is not None:
        reservation.note = data.note
        _touch(reservation, now)
    start, end = data.start_at or reservation.start_at, data.end_at or reservation.end_at
    if (start, end) != (reservation.start_at, reservation.end_at):
        _reschedule(
            session=session, now=now, reservation=reservation, target=target, start=start, end=end
        )
        if needs_approval(actor=actor, target=target):
            reservation.status = ReservationStatus.pending
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="reservation.update",
        subject=f"reservation:{reservation.id}",
        start=start.isoformat(),
        end=end.isoformat(),
        override_reason=data.override_reason,
    )
    session.commit()
    return reservation


def cancel_reservation(
    *, session: Session, now: datetime, actor: Principal, reservation_id: int
) -> Reservation:
    reservation, target = _for_change(
        session=session,
        actor=actor,
        reservation_id=reservation_id,
        allowed=(ReservationStatus.pending, ReservationStatus.confirmed),
    )
    if now >= reservation.start_at and not actor.operates(target.site.id or 0):
        # After the start a booking is used or missed (billing counts no-shows): release it.
        raise Conflict("the reservation has started: release it instead", code="already_started")
    reservation.status = ReservationStatus.cancelled
    _touch(reservation, now)
    session.add(reservation)
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="reservation.cancel",
        subject=f"reservation:{reservation.id}",
    )
    session.commit()
    return reservation


def decide_approval(
    *, session: Session, now: datetime, actor: Principal, reservation_id: int, approve: bool
) -> Reservation:
    """An operator confirms or declines a pending reservation."""
    reservation, target = _for_change(
        session=session,
        actor=actor,
        reservation_id=reservation_id,
        allowed=(ReservationStatus.pending,),
    )
    if not actor.operates(target.site.id or 0):
        raise Forbidden("only an operator of this site may approve bookings")
    reservation.status = ReservationStatus.confirmed if approve else ReservationStatus.cancelled
    _touch(reservation, now)
    session.add(reservation)
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="reservation.approve" if approve else "reservation.decline",
        subject=f"reservation:{reservation.id}",
    )
    session.commit()
    return reservation


def check_in(
    *, session: Session, now: datetime, actor: Principal, reservation_id: int
) -> Reservation:
    reservation, _ = _for_change(
        session=session,
        actor=actor,
        reservation_id=reservation_id,
        allowed=(ReservationStatus.confirmed,),
    )
    if not reservation_holds(reservation, now, check_in=True):
        raise RuleViolation(
            f"check-in opens {CHECK_IN_EARLY // timedelta(minutes=1)} minutes before the start "
            "and closes at the end",
            {"start": reservation.start_at.isoformat(), "end": reservation.end_at.isoformat()},
            code="check_in_window",
        )
    reservation.status = ReservationStatus.active
    reservation.checked_in_at = now
    _touch(reservation, now)
    session.add(reservation)
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="reservation.check_in",
        subject=f"reservation:{reservation.id}",
    )
    session.commit()
    return reservation


def release(
    *, session: Session, now: datetime, actor: Principal, reservation_id: int
) -> Reservation:
    """End a started reservation now; the rest of the slot becomes free."""
    reservation, target = _for_change(
        session=session,
        actor=actor,
        reservation_id=reservation_id,
        allowed=(ReservationStatus.active, ReservationStatus.confirmed),
    )
    if now < reservation.start_at:
        raise Conflict("the reservation has not started: cancel it instead", code="not_started")
    reservation.end_at = min(reservation.end_at, now)
    reservation.blocked_until = reservation.end_at + timedelta(
        minutes=target.resource.buffer_minutes
    )
    reservation.status = ReservationStatus.completed
    reservation.released_at = now
    _touch(reservation, now)
    session.add(reservation)
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="reservation.release",
        subject=f"reservation:{reservation.id}",
    )
    session.commit()
    return reservation


def extend(
    *, session: Session, now: datetime, actor: Principal, reservation_id: int, end: datetime
) -> Reservation:
    """Move the end later when the following time is free and the rules allow it."""
    reservation, target = _for_change(
        session=session,
        actor=actor,
        reservation_id=reservation_id,
        allowed=(ReservationStatus.confirmed, ReservationStatus.active),
    )
    if end <= reservation.end_at:
        raise RuleViolation(
            "an extension must end later than the reservation", code="invalid_range"
        )
    if now >= reservation.end_at:
        raise Conflict("the reservation has ended", code="invalid_state")
    _reschedule(
        session=session,
        now=now,
        reservation=reservation,
        target=target,
        start=reservation.start_at,
        end=end,
        new_start=False,
        walk_in=reservation.walk_in,
    )
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="reservation.extend",
        subject=f"reservation:{reservation.id}",
        end=end.isoformat(),
    )
    session.commit()
    return reservation
