"""Creating, moving and cancelling reservations, with every rule in one place."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..db import begin_write
from ..errors import Conflict, DomainError, Forbidden, NotFound, RuleViolation
from ..models import (
    BLOCKING,
    Account,
    Reservation,
    ReservationCreate,
    ReservationStatus,
    Resource,
    Site,
)
from . import policy
from .accounts import Principal
from .audit import record, record_reservation
from .availability import check_slot, conflict_with
from .catalogue import load_resource
from .intervals import Interval
from .recurrence import occurrences
from .tenancy import check_tenancy


@dataclass(frozen=True)
class Target:
    """Who a booking is for, on what, and whether an operator waives the rules."""

    resource: Resource
    site: Site
    account_id: int
    override_reason: str = ""

    @property
    def override(self) -> bool:
        return bool(self.override_reason)


@dataclass
class SeriesResult:
    series_id: str
    reservations: list[Reservation]
    skipped: list[dict[str, Any]] = field(default_factory=list)


def resolve_target(
    *,
    session: Session,
    actor: Principal,
    resource_id: int,
    account_id: int | None,
    override_reason: str | None,
) -> Target:
    """Check that the actor may book this resource for this account."""
    resource, site = load_resource(session=session, resource_id=resource_id)
    staff = actor.operates(site.id or 0)
    if account_id is not None and account_id != actor.id:
        if not staff:
            raise Forbidden("only an operator of this site may book for someone else")
        if session.get(Account, account_id) is None:
            raise NotFound(f"no account {account_id}")
    if override_reason and not staff:
        raise Forbidden("only an operator of this site may override booking rules")
    return Target(resource, site, account_id or actor.id, override_reason or "")


def check_booking(
    *,
    session: Session,
    now: datetime,
    target: Target,
    start: datetime,
    end: datetime,
    ignore_reservation_id: int | None = None,
    new_start: bool = True,
    walk_in: bool = False,
) -> None:
    """Every rule a booking of [start, end) must meet; raises the first one broken.

    `new_start=False` (an extension) keeps a start that already passed the lead time;
    `walk_in=True` (a card tapped at the machine) starts now, off the slot grid.
    """
    policy.check_range(start, end)
    resource, site = target.resource, target.site
    if not target.override:
        policy.check_grid(
            resource=resource, site=site, start=start, end=end, start_on_grid=not walk_in
        )
        policy.check_duration(resource=resource, start=start, end=end)
        policy.check_window(
            resource=resource, start=start, end=end, now=now, new_start=new_start and not walk_in
        )
        policy.check_training(
            session=session, resource=resource, site=site, account_id=target.account_id, end=end
        )
        policy.check_quota(
            session=session,
            resource=resource,
            site=site,
            account_id=target.account_id,
            start=start,
            end=end,
            ignore_reservation_id=ignore_reservation_id,
        )
    check_slot(
        session=session,
        resource=resource,
        site=site,
        start=start,
        end=end,
        ignore_reservation_id=ignore_reservation_id,
        override=target.override,
    )
    # A rented room is its tenant's, whoever books and whatever is overridden.
    check_tenancy(
        session=session,
        resource=resource,
        site=site,
        account_id=target.account_id,
        start=start,
        end=end,
    )


@dataclass(frozen=True)
class Preview:
    """What booking a span would do now: wait for an operator, or be refused (and why)."""

    needs_approval: bool
    refused: DomainError | None


def preview_booking(
    *,
    session: Session,
    now: datetime,
    actor: Principal,
    resource_id: int,
    start: datetime,
    end: datetime,
) -> Preview:
    """The rules' answer to booking [start, end) for the actor, without booking it."""
    target = resolve_target(
        session=session, actor=actor, resource_id=resource_id, account_id=None, override_reason=None
    )
    pending = needs_approval(actor=actor, target=target)
    try:
        check_booking(session=session, now=now, target=target, start=start, end=end)
    except DomainError as exc:
        return Preview(pending, exc)
    return Preview(pending, None)


def needs_approval(*, actor: Principal, target: Target) -> bool:
    """New times on an approval-required resource wait for an operator, unless one chose them."""
    return target.resource.requires_approval and not actor.operates(target.site.id or 0)


def _new_reservation(
    *,
    now: datetime,
    actor: Principal,
    target: Target,
    span: Interval,
    note: str,
    series_id: str | None = None,
) -> Reservation:
    pending = needs_approval(actor=actor, target=target)
    return Reservation(
        resource_id=target.resource.id or 0,
        account_id=target.account_id,
        created_by_id=actor.id,
        start_at=span.start,
        end_at=span.end,
        blocked_until=span.end + timedelta(minutes=target.resource.buffer_minutes),
        status=ReservationStatus.pending if pending else ReservationStatus.confirmed,
        note=note,
        series_id=series_id,
        override_reason=target.override_reason,
        created_at=now,
        updated_at=now,
    )


def is_overlap_violation(exc: IntegrityError) -> bool:
    """True for PostgreSQL's exclusion-constraint violation (SQLSTATE 23P01)."""
    return getattr(exc.orig, "sqlstate", None) == "23P01"


def _raise_clash(session: Session, resource_id: int, start: datetime, end: datetime) -> None:
    session.rollback()
    other = session.exec(
        select(Reservation)
        .where(
            Reservation.resource_id == resource_id,
            col(Reservation.status).in_(BLOCKING),
            Reservation.start_at < end,
            Reservation.blocked_until > start,
        )
        .limit(1)
    ).first()
    if other is not None:
        raise conflict_with(other)
    raise Conflict("the time was taken by a concurrent booking")


def flush_or_conflict(session: Session, reservation: Reservation) -> None:
    """Flush one reservation; the database's overlap check becomes a 409."""
    try:
        session.flush()
    except IntegrityError as exc:
        if not is_overlap_violation(exc):
            raise
        _raise_clash(
            session, reservation.resource_id, reservation.start_at, reservation.blocked_until
        )


def _locked_target(*, session: Session, actor: Principal, data: ReservationCreate) -> Target:
    """Take the write lock, then resolve what is booked for whom."""
    begin_write(session)
    return resolve_target(
        session=session,
        actor=actor,
        resource_id=data.resource_id,
        account_id=data.account_id,
        override_reason=data.override_reason,
    )


def create_reservation(
    *, session: Session, now: datetime, actor: Principal, data: ReservationCreate
) -> Reservation:
    """Book one slot (or call `create_series` when `data.recurrence` is set)."""
    target = _locked_target(session=session, actor=actor, data=data)
    check_booking(session=session, now=now, target=target, start=data.start_at, end=data.end_at)
    reservation = _new_reservation(
        now=now,
        actor=actor,
        target=target,
        span=Interval(data.start_at, data.end_at),
        note=data.note,
    )
    session.add(reservation)
    flush_or_conflict(session, reservation)
    return record_reservation(
        session=session,
        now=now,
        actor=actor,
        reservation=reservation,
        action="create",
        status=reservation.status.value,
        override_reason=target.override_reason or None,
    )


def create_walk_in(
    *, session: Session, now: datetime, actor: Principal, resource_id: int, end: datetime
) -> Reservation:
    """Book [now, end) for the person at the machine, checked in at once; same rules."""
    begin_write(session)
    target = resolve_target(
        session=session, actor=actor, resource_id=resource_id, account_id=None, override_reason=None
    )
    start = now.replace(microsecond=0)
    check_booking(session=session, now=now, target=target, start=start, end=end, walk_in=True)
    reservation = _new_reservation(
        now=now, actor=actor, target=target, span=Interval(start, end), note="walk-in"
    )
    if reservation.status == ReservationStatus.pending:
        session.rollback()
        raise RuleViolation(
            f"{target.resource.name} needs an operator's approval", code="approval_required"
        )
    reservation.walk_in = True
    reservation.status = ReservationStatus.active
    reservation.checked_in_at = now
    session.add(reservation)
    flush_or_conflict(session, reservation)
    return record_reservation(
        session=session,
        now=now,
        actor=actor,
        reservation=reservation,
        action="walk_in",
        end=end.isoformat(),
    )


def _skipped(span: Interval, status: int, error: dict[str, Any]) -> dict[str, Any]:
    return {"start": span.start.isoformat(), "end": span.end.isoformat(), "status": status, **error}


def _book_occurrence(
    *,
    session: Session,
    now: datetime,
    actor: Principal,
    target: Target,
    span: Interval,
    note: str,
    series_id: str,
) -> Reservation | dict[str, Any]:
    """Book one occurrence in its own savepoint; what was broken if it cannot be booked."""
    try:
        check_booking(session=session, now=now, target=target, start=span.start, end=span.end)
    except DomainError as exc:
        return _skipped(span, exc.status, exc.to_dict()["error"])
    reservation = _new_reservation(
        now=now, actor=actor, target=target, span=span, note=note, series_id=series_id
    )
    try:
        with session.begin_nested():
            session.add(reservation)
    except IntegrityError as exc:
        if not is_overlap_violation(exc):
            raise
        return _skipped(
            span,
            409,
            {"code": "conflict", "message": "the time was taken by a concurrent booking"},
        )
    return reservation


def _refusal(result: SeriesResult, wanted: int, skip_conflicts: bool) -> DomainError | None:
    """Why the series cannot be booked as asked, if it cannot."""
    if result.skipped and not skip_conflicts:
        error = Conflict if any(s["status"] == 409 for s in result.skipped) else RuleViolation
        return error(
            f"{len(result.skipped)} of {wanted} occurrences cannot be booked",
            {"occurrences": result.skipped},
            code="series_conflict" if error is Conflict else "series_rule_violation",
        )
    if not result.reservations:
        return Conflict(
            "no occurrence can be booked", {"occurrences": result.skipped}, code="series_conflict"
        )
    return None


def create_series(
    *, session: Session, now: datetime, actor: Principal, data: ReservationCreate, limit: int
) -> SeriesResult:
    """Book every occurrence, or none: each broken one is reported.

    With `skip_conflicts` the occurrences that can be booked are, and the rest
    are returned as skipped.
    """
    if data.recurrence is None:
        raise ValueError("create_series needs a recurrence")
    target = _locked_target(session=session, actor=actor, data=data)
    spans = occurrences(
        recurrence=data.recurrence,
        start=data.start_at,
        end=data.end_at,
        zone_name=target.site.timezone,
        limit=limit,
    )
    result = SeriesResult(series_id=str(uuid.uuid4()), reservations=[])
    for span in spans:
        booked = _book_occurrence(
            session=session,
            now=now,
            actor=actor,
            target=target,
            span=span,
            note=data.note,
            series_id=result.series_id,
        )
        if isinstance(booked, Reservation):
            result.reservations.append(booked)
        else:
            result.skipped.append(booked)
    refusal = _refusal(result, len(spans), data.recurrence.skip_conflicts)
    if refusal is not None:
        session.rollback()  # none of the series is kept
        raise refusal
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="series.create",
        subject=f"series:{result.series_id}",
        booked=len(result.reservations),
        skipped=len(result.skipped),
        override_reason=target.override_reason or None,
    )
    return result
