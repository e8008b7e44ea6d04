"""Free time of a resource: opening hours minus blackouts, bookings and buffers.

The same layers decide what is shown as free and what may be booked
(`check_slot` below is what the booking rules call).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, select

from ..errors import Conflict, RuleViolation
from ..models import (
    BLOCKING,
    Blackout,
    OpeningHours,
    Reservation,
    ReservationStatus,
    Resource,
    Site,
)
from .intervals import Interval, clip, covers, merge, subtract

# A finished or released session still holds its buffer (cleaning, cooling) after its end.
HOLDING = (*BLOCKING, ReservationStatus.completed)


@dataclass(frozen=True)
class Layers:
    """What is open, closed and taken around one resource in a time range."""

    open: list[Interval]
    blackouts: list[tuple[Interval, Blackout]]
    busy: list[tuple[Interval, Reservation]]

    def free(self) -> list[Interval]:
        return subtract(
            subtract(self.open, (iv for iv, _ in self.blackouts)),
            (iv for iv, _ in self.busy),
        )


def opening_intervals(
    *, session: Session, site: Site, start: datetime, end: datetime
) -> list[Interval]:
    """The site's opening hours between start and end, in UTC."""
    by_weekday: dict[int, list[OpeningHours]] = defaultdict(list)
    for hours in session.exec(select(OpeningHours).where(OpeningHours.site_id == site.id)):
        by_weekday[hours.weekday].append(hours)
    zone = site.zone
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    found: list[Interval] = []
    while day <= last:
        for hours in by_weekday.get(day.weekday(), ()):
            opens = datetime.combine(day, hours.opens, tzinfo=zone)
            closes_day = day if hours.closes > hours.opens else day + timedelta(days=1)
            closes = datetime.combine(closes_day, hours.closes, tzinfo=zone)
            found.append(Interval(opens.astimezone(UTC), closes.astimezone(UTC)))
        day += timedelta(days=1)
    return clip(merge(found), start, end)


def layers(
    *,
    session: Session,
    resource: Resource,
    site: Site,
    start: datetime,
    end: datetime,
    ignore_reservation_id: int | None = None,
) -> Layers:
    buffer = timedelta(minutes=resource.buffer_minutes)
    blackouts = session.exec(
        select(Blackout).where(
            Blackout.site_id == site.id,
            or_(col(Blackout.resource_id).is_(None), col(Blackout.resource_id) == resource.id),
            Blackout.start_at < end,
            Blackout.end_at > start,
        )
    ).all()
    query = select(Reservation).where(
        Reservation.resource_id == resource.id,
        col(Reservation.status).in_(HOLDING),
        Reservation.start_at < end + buffer,
        Reservation.blocked_until > start,
    )
    if ignore_reservation_id is not None:
        query = query.where(Reservation.id != ignore_reservation_id)
    # A booking [s, e) keeps others out of [s - buffer, e + buffer).
    busy = [
        (Interval(r.start_at - buffer, r.blocked_until), r)
        for r in session.exec(query.order_by(col(Reservation.start_at)))
    ]
    return Layers(
        open=opening_intervals(session=session, site=site, start=start, end=end),
        blackouts=[(Interval(b.start_at, b.end_at), b) for b in blackouts],
        busy=busy,
    )


def bookable_window(*, resource: Resource, now: datetime) -> Interval:
    """From the lead time to the furthest day ahead a booking may reach."""
    return Interval(
        now + timedelta(minutes=resource.lead_minutes),
        now + timedelta(days=resource.max_days_ahead),
    )


def free_intervals(
    *,
    session: Session,
    resource: Resource,
    site: Site,
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[Interval]:
    """What a maker may book on `resource` between start and end.

    Free time is trimmed to whole slots and stretches too short for a booking are
    left out, so that every stretch shown can be booked.
    """
    window = bookable_window(resource=resource, now=now)
    lo, hi = max(start, window.start), min(end, window.end)
    if lo >= hi:
        return []
    # Look past the asked range so that a stretch it cuts is judged by its full length.
    reach = timedelta(minutes=resource.min_minutes + resource.slot_minutes)
    found = layers(
        session=session,
        resource=resource,
        site=site,
        start=max(lo - reach, window.start),
        end=min(hi + reach, window.end),
    ).free()
    return clip(whole_slots(found, resource=resource, site=site), lo, hi)


def past_grid(moment: datetime, *, resource: Resource, site: Site) -> timedelta:
    """How far `moment` lies past the resource's slot grid, counted from local midnight."""
    local = moment.astimezone(site.zone)
    since_midnight = local - local.replace(hour=0, minute=0, second=0, microsecond=0)
    return since_midnight % timedelta(minutes=resource.slot_minutes)


def whole_slots(free: list[Interval], *, resource: Resource, site: Site) -> list[Interval]:
    """Free time trimmed to the slot grid, without stretches shorter than a booking."""
    step = timedelta(minutes=resource.slot_minutes)
    shortest = timedelta(minutes=resource.min_minutes)
    found = []
    for iv in free:
        start = iv.start + (step - past_grid(iv.start, resource=resource, site=site)) % step
        end = iv.end - past_grid(iv.end, resource=resource, site=site)
        if end - start >= shortest:
            found.append(Interval(start, end))
    return found


def check_slot(
    *,
    session: Session,
    resource: Resource,
    site: Site,
    start: datetime,
    end: datetime,
    ignore_reservation_id: int | None = None,
    override: bool = False,
) -> None:
    """Raise unless [start, end) is open, not blacked out and not taken.

    With `override` (an operator's recorded decision) hours and blackouts are
    waived; a clash with another booking never is.
    """
    found = layers(
        session=session,
        resource=resource,
        site=site,
        start=start,
        end=end,
        ignore_reservation_id=ignore_reservation_id,
    )
    if not override:
        if not covers(found.open, start, end):
            raise RuleViolation(
                "the site is closed for part of this time", code="outside_opening_hours"
            )
        for iv, blackout in found.blackouts:
            if iv.start < end and start < iv.end:
                raise RuleViolation(
                    f"closed: {blackout.reason or 'blackout'}",
                    {
                        "blackout_id": blackout.id,
                        "start": iv.start.isoformat(),
                        "end": iv.end.isoformat(),
                    },
                    code="blackout",
                )
    clashes = [r for iv, r in found.busy if iv.start < end and start < iv.end]
    if clashes:
        raise conflict_with(clashes[0])


def conflict_with(other: Reservation) -> Conflict:
    return Conflict(
        f"the time is taken by reservation {other.id}",
        {
            "conflicting_reservation": {
                "id": other.id,
                "start": other.start_at.isoformat(),
                "end": other.end_at.isoformat(),
                "status": other.status.value,
            }
        },
    )
