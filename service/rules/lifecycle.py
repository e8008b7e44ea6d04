"""Reading, moving, cancelling and running reservations.

Each change is audited here and kept by whoever owns the unit of work (the API
request, the scheduler job, the listener batch), which commits or rolls back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from ..db import begin_write
from ..errors import Forbidden, NotFound, RuleViolation
from ..models import Reservation, ReservationStatus, ReservationUpdate, Resource
from .accounts import Principal
from .audit import record_many, record_reservation
from .booking import Target, check_booking, flush_or_conflict, needs_approval
from .catalogue import load_resource
from .guards import refusal_for


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
    newest_first: bool = False,
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
    order = col(Reservation.start_at).desc() if newest_first else col(Reservation.start_at)
    return list(session.exec(query.order_by(order).limit(limit)))


def _for_change(
    session: Session, now: datetime, actor: Principal, reservation_id: int, action: str
) -> tuple[Reservation, Target]:
    """Lock the reservation for `action`; raises the guard's refusal when it may not."""
    begin_write(session)
    reservation = get_reservation(
        session=session, actor=actor, reservation_id=reservation_id, for_update=True
    )
    resource, site = load_resource(session=session, resource_id=reservation.resource_id)
    refused = refusal_for(action=action, reservation=reservation, site=site, actor=actor, now=now)
    if refused is not None:
        raise refused
    return reservation, Target(resource, site, reservation.account_id)


def _touch(reservation: Reservation, now: datetime) -> None:
    reservation.sequence += 1
    reservation.updated_at = now


def _transition(
    session: Session,
    now: datetime,
    actor: Principal,
    reservation: Reservation,
    status: ReservationStatus,
    action: str,
) -> Reservation:
    """Move `reservation` to `status`, bump its sequence and audit the step."""
    reservation.status = status
    _touch(reservation, now)
    session.add(reservation)
    return record_reservation(
        session=session, now=now, actor=actor, reservation=reservation, action=action
    )


def transition_many(
    *,
    session: Session,
    now: datetime,
    where: Any,
    status: ReservationStatus,
    action: str,
    **values: Any,
) -> list[int]:
    """Move every reservation matching `where` to `status` in one conditional UPDATE.

    The UPDATE is the claim: two schedulers never both move a row. Each move is audited.
    """
    ids = list(
        session.execute(
            update(Reservation)
            .where(*where)
            .values(
                status=status,
                sequence=col(Reservation.sequence) + 1,
                updated_at=now,
                **values,
            )
            .returning(col(Reservation.id))
            .execution_options(synchronize_session=False)
        ).scalars()
    )
    record_many(
        session=session,
        now=now,
        action=f"reservation.{action}",
        subjects=[f"reservation:{rid}" for rid in ids],
    )
    return ids


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


def _await_approval(reservation: Reservation, actor: Principal, target: Target) -> None:
    """New times on an approval-required resource go back to `pending`, as a new booking would."""
    if needs_approval(actor=actor, target=target):
        reservation.status = ReservationStatus.pending


def move_reservation(
    *,
    session: Session,
    now: datetime,
    actor: Principal,
    reservation_id: int,
    data: ReservationUpdate,
) -> Reservation:
    """Change times or note; new times meet the same rules as a new booking."""
    reservation, target = _for_change(session, now, actor, reservation_id, "move")
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
        _await_approval(reservation, actor, target)
    return record_reservation(
        session=session,
        now=now,
        actor=actor,
        reservation=reservation,
        action="update",
        start=start.isoformat(),
        end=end.isoformat(),
        override_reason=data.override_reason,
    )


def cancel_reservation(
    *, session: Session, now: datetime, actor: Principal, reservation_id: int
) -> Reservation:
    reservation, target = _for_change(session, now, actor, reservation_id, "cancel")
    return _transition(session, now, actor, reservation, ReservationStatus.cancelled, "cancel")


def decide_approval(
    *,
    session: Session,
    now: datetime,
    actor: Principal,
    reservation_id: int,
    approve: bool,
    reason: str = "",
) -> Reservation:
    """An operator confirms or declines a pending reservation.

    A reason, when given, goes into the audit entry and so into the maker's notification.
    """
    reservation, target = _for_change(session, now, actor, reservation_id, "decide")
    if not actor.operates(target.site.id or 0):
        raise Forbidden("only an operator of this site may approve bookings")
    reservation.status = ReservationStatus.confirmed if approve else ReservationStatus.cancelled
    _touch(reservation, now)
    session.add(reservation)
    return record_reservation(
        session=session,
        now=now,
        actor=actor,
        reservation=reservation,
        action="approve" if approve else "decline",
        **({"reason": reason.strip()} if reason.strip() else {}),
    )


def check_in(
    *, session: Session, now: datetime, actor: Principal, reservation_id: int
) -> Reservation:
    reservation, _ = _for_change(session, now, actor, reservation_id, "check_in")
    reservation.checked_in_at = now
    return _transition(session, now, actor, reservation, ReservationStatus.active, "check_in")


def release(
    *, session: Session, now: datetime, actor: Principal, reservation_id: int
) -> Reservation:
    """End a started reservation now; the rest of the slot becomes free."""
    reservation, target = _for_change(session, now, actor, reservation_id, "release")
    reservation.end_at = min(reservation.end_at, now)
    reservation.blocked_until = reservation.end_at + timedelta(
        minutes=target.resource.buffer_minutes
    )
    reservation.released_at = now
    return _transition(session, now, actor, reservation, ReservationStatus.completed, "release")


def extend(
    *, session: Session, now: datetime, actor: Principal, reservation_id: int, end: datetime
) -> Reservation:
    """Move the end later when the following time is free and the rules allow it."""
    reservation, target = _for_change(session, now, actor, reservation_id, "extend")
    if end <= reservation.end_at:
        raise RuleViolation(
            "an extension must end later than the reservation", code="invalid_range"
        )
    if reservation.status == ReservationStatus.active and needs_approval(
        actor=actor, target=target
    ):
        # Sending a session in use back to `pending` would lock its maker out mid-job;
        # as for a walk-in, the longer use is the operator's to grant.
        raise RuleViolation(
            f"{target.resource.name} needs an operator's approval", code="approval_required"
        )
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
    _await_approval(reservation, actor, target)
    return record_reservation(
        session=session,
        now=now,
        actor=actor,
        reservation=reservation,
        action="extend",
        end=end.isoformat(),
    )
