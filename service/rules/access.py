"""Badge decisions at a machine or room door: enable for the booker, a walk-in, or deny.

Card → account; a reservation of that account on this resource now (or starting
within the check-in window) → check in and `enable` until its end. Otherwise, if the
resource is free, takes walk-ins and the booking rules allow it → a walk-in
reservation up to the next booking or the longest booking, then `enable`.
Anything else is a `deny` whose message says why. Every decision is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from ..db import begin_write
from ..errors import Conflict, DomainError, RuleViolation
from ..models import (
    Account,
    Device,
    Reservation,
    ReservationStatus,
    Resource,
    Site,
)
from .accounts import principal_for
from .audit import record
from .availability import layers
from .booking import create_walk_in
from .commands import CommandSpec, Outgoing, create_commands
from .holding import holds
from .lifecycle import check_in
from .sitetime import SlotGrid, local_clock


@dataclass(frozen=True)
class Decision:
    action: str  # "enable" or "deny"
    reason: str  # a short code: reservation, walk_in, unknown_card, not_trained, booked, ...
    message: str
    account_id: int | None = None
    reservation_id: int | None = None
    until: datetime | None = None


def _deny(reason: str, message: str, account: Account | None = None) -> Decision:
    return Decision("deny", reason, message, account.id if account else None)


def decide(
    *, session: Session, now: datetime, resource: Resource, site: Site, card: str
) -> Decision:
    """Decide a tap of `card` at `resource`; may check in or create a walk-in (commits)."""
    account = session.exec(select(Account).where(Account.card_uid == card.upper())).first()
    if account is None:
        return _deny("unknown_card", "unknown card")
    if not account.active:
        return _deny("card_blocked", "card blocked", account)
    current = session.exec(
        select(Reservation)
        .where(Reservation.resource_id == resource.id, holds(now, check_in=True))
        .order_by(col(Reservation.start_at))
    ).all()
    taken = next((r for r in current if r.start_at <= now and r.account_id != account.id), None)
    if taken is not None:
        return _deny(
            "booked", f"booked by someone else until {local_clock(taken.end_at, site)}", account
        )
    own = next((r for r in current if r.account_id == account.id), None)
    if own is not None:
        return _own_reservation(session=session, now=now, account=account, reservation=own)
    return _walk_in(session=session, now=now, account=account, resource=resource, site=site)


def _own_reservation(
    *, session: Session, now: datetime, account: Account, reservation: Reservation
) -> Decision:
    if reservation.status == ReservationStatus.pending:
        return _deny("pending", "your booking awaits approval", account)
    if reservation.status == ReservationStatus.confirmed:
        reservation_id, actor = reservation.id or 0, principal_for(session=session, account=account)
        # The row was read without the lock: have the check-in read it afresh, as a
        # no-show or a cancellation may come first.
        session.expire(reservation)
        try:
            check_in(session=session, now=now, actor=actor, reservation_id=reservation_id)
        except DomainError as exc:
            session.rollback()
            return _deny(_REASONS.get(exc.code, exc.code), _message(exc), account)
    return Decision(
        "enable",
        "reservation",
        "welcome",
        account.id,
        reservation.id,
        reservation.end_at,
    )


def _walk_in(
    *, session: Session, now: datetime, account: Account, resource: Resource, site: Site
) -> Decision:
    if not resource.walk_in_allowed:
        return _deny("no_walk_in", "no booking now; walk-ins are not allowed here", account)
    try:
        end = _walk_in_end(session=session, now=now, resource=resource, site=site)
        if end <= now:
            raise RuleViolation("too little time before the next booking", code="duration")
        reservation = create_walk_in(
            session=session,
            now=now,
            actor=principal_for(session=session, account=account),
            resource_id=resource.id or 0,
            end=end,
        )
    except DomainError as exc:
        session.rollback()
        return _deny(_REASONS.get(exc.code, exc.code), _message(exc), account)
    return Decision("enable", "walk_in", "walk-in", account.id, reservation.id, reservation.end_at)


def _walk_in_end(*, session: Session, now: datetime, resource: Resource, site: Site) -> datetime:
    """Up to the next booking, closing or blackout, at most the longest booking.

    When the resource is not free now, the shortest walk-in is proposed: the booking
    rules then say why it cannot be had (closed, blacked out, booked).
    """
    horizon = now + timedelta(minutes=resource.max_minutes)
    found = layers(session=session, resource=resource, site=site, start=now, end=horizon)
    free = next((iv for iv in found.free() if iv.start <= now < iv.end), None)
    grid = SlotGrid.of(resource, site)
    if free is not None:
        return grid.floor(free.end)
    return grid.ceil(now + timedelta(minutes=resource.min_minutes))


_REASONS = {
    "training_required": "not_trained",
    "outside_opening_hours": "closed",
    "blackout": "closed",
    "conflict": "booked",
    "duration": "too_short",
    "invalid_state": "released",
}


def _message(exc: DomainError) -> str:
    if exc.code == "training_required":
        return "not trained for this machine"
    if exc.code == "outside_opening_hours":
        return "outside opening hours"
    if exc.code == "invalid_state":
        return "your booking was released meanwhile"
    if isinstance(exc, Conflict):
        return "booked by someone else"
    if exc.code == "duration":
        return "too little time before the next booking"
    return exc.message


def answer_badge(
    *, session: Session, now: datetime, device: Device, card: str
) -> tuple[Decision, Outgoing | None]:
    """Decide a tap at `device`, audit it and record the answer as a sent command.

    Returns the decision and the answer to publish (None for a reader without a resource).
    The decision reads without the write lock; check-in and walk-in take it themselves.
    """
    resource = session.get(Resource, device.resource_id) if device.resource_id else None
    site = session.get(Site, device.site_id)
    if resource is None or site is None or not resource.active:
        decision = _deny("no_resource", "this reader is not assigned to a machine or room")
    else:
        decision = decide(session=session, now=now, resource=resource, site=site, card=card)
    begin_write(session)
    record(
        session=session,
        now=now,
        actor_id=decision.account_id,
        action=f"access.{decision.action}",
        subject=f"device:{device.id}",
        reason=decision.reason,
        message=decision.message,
        card=card,
        reservation_id=decision.reservation_id,
    )
    answer = None
    if resource is not None and site is not None:
        spec = _answer(device, resource, decision, now)
        if not create_commands(session=session, now=now, specs=[spec], sent=True):
            # The scheduler sent this reservation's enable meanwhile: answer the tap anyway.
            spec = replace(spec, key=f"badge:{spec.uid}")
            create_commands(session=session, now=now, specs=[spec], sent=True)
        answer = Outgoing(
            spec.uid,
            site.slug,
            device.slug,
            spec.action,
            spec.reservation_id,
            spec.until,
            spec.message,
        )
    session.commit()
    return decision, answer


def _answer(device: Device, resource: Resource, decision: Decision, now: datetime) -> CommandSpec:
    """The answer, keyed as the reservation's own enable: the scheduler need not send it."""
    spec = CommandSpec(
        key="",
        device_id=device.id or 0,
        resource_id=resource.id or 0,
        reservation_id=decision.reservation_id,
        action=decision.action,
        until=decision.until,
        message=decision.message,
        due_at=now,
        source="badge",
    )
    if decision.action == "enable" and decision.until is not None:
        stamp = int(decision.until.timestamp())
        return replace(spec, key=f"enable:{decision.reservation_id}:{device.id}:{stamp}")
    return replace(spec, key=f"badge:{spec.uid}")
