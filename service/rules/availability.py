"""Free time of a resource: opening hours minus blackouts, bookings and buffers.

The same layers decide what is shown as free and what may be booked
(`check_slot` below is what the booking rules call).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, or_
from sqlmodel import Session, col, select

from ..errors import Conflict, RuleViolation
from ..models import (
    OCCUPYING,
    Blackout,
    Reservation,
    ReservationStatus,
    Resource,
    Site,
)
from .hours import hours_by_site, open_intervals
from .intervals import Interval, clip, covers, subtract
from .sitetime import SlotGrid
from .tenancy import closed_to


class Busy(NamedTuple):
    """The columns of a reservation that availability needs (no ORM object per row)."""

    id: int
    resource_id: int
    start_at: datetime
    end_at: datetime
    blocked_until: datetime
    status: ReservationStatus


class Closed(NamedTuple):
    """The columns of a blackout that availability needs."""

    id: int
    site_id: int
    resource_id: int | None
    start_at: datetime
    end_at: datetime
    reason: str


def _id(row: Resource | Site) -> int:
    """The id of a stored resource or site, which the rules below are only ever given."""
    assert row.id is not None  # noqa: S101 - a row read from the database has its id
    return row.id


# The three reads of `layers_many`, built once: a booking runs them on every request.
_BLACKOUTS = select(  # type: ignore[call-overload]  # sqlmodel types at most 4 columns
    Blackout.id,
    Blackout.site_id,
    Blackout.resource_id,
    Blackout.start_at,
    Blackout.end_at,
    Blackout.reason,
).where(
    col(Blackout.site_id).in_(bindparam("site_ids", expanding=True)),
    or_(
        col(Blackout.resource_id).is_(None),
        col(Blackout.resource_id).in_(bindparam("resource_ids", expanding=True)),
    ),
    col(Blackout.start_at) < bindparam("end"),
    col(Blackout.end_at) > bindparam("start"),
)
_BUSY = (
    select(  # type: ignore[call-overload]
        Reservation.id,
        Reservation.resource_id,
        Reservation.start_at,
        Reservation.end_at,
        Reservation.blocked_until,
        Reservation.status,
    )
    .where(
        col(Reservation.resource_id).in_(bindparam("resource_ids", expanding=True)),
        col(Reservation.status).in_(OCCUPYING),
        col(Reservation.start_at) < bindparam("reach"),
        col(Reservation.blocked_until) > bindparam("start"),
    )
    .order_by(col(Reservation.start_at))
)
_BUSY_BUT = _BUSY.where(col(Reservation.id) != bindparam("ignore_id"))


@dataclass(frozen=True)
class Layers:
    """What is open, closed and taken around one resource in a time range."""

    open: list[Interval]
    blackouts: list[tuple[Interval, Closed]]
    busy: list[tuple[Interval, Busy]]

    def free(self) -> list[Interval]:
        return subtract(
            subtract(self.open, (iv for iv, _ in self.blackouts)),
            (iv for iv, _ in self.busy),
        )


def layers_many(
    *,
    session: Session,
    resources: Sequence[tuple[Resource, Site]],
    start: datetime,
    end: datetime,
    ignore_reservation_id: int | None = None,
) -> dict[int, Layers]:
    """Layers of many resources with three queries in all, whatever their number."""
    if not resources:
        return {}
    sites = {_id(site): site for _, site in resources}
    ids = [_id(resource) for resource, _ in resources]
    widest = timedelta(minutes=max(resource.buffer_minutes for resource, _ in resources))
    # Plain column rows on the session's connection: no ORM object per row.
    connection = session.connection()
    blackouts = [
        Closed(*row)
        for row in connection.execute(
            _BLACKOUTS, {"site_ids": list(sites), "resource_ids": ids, "start": start, "end": end}
        )
    ]
    busy_params = {"resource_ids": ids, "reach": end + widest, "start": start}
    if ignore_reservation_id is None:
        busy_rows = connection.execute(_BUSY, busy_params)
    else:
        busy_rows = connection.execute(
            _BUSY_BUT, {**busy_params, "ignore_id": ignore_reservation_id}
        )
    busy_by_resource: dict[int, list[Busy]] = defaultdict(list)
    for row in busy_rows:
        busy = Busy(*row)
        busy_by_resource[busy.resource_id].append(busy)
    hours = hours_by_site(session, set(sites))
    open_by_site = {
        site_id: open_intervals(hours.get(site_id, []), site, start, end)
        for site_id, site in sites.items()
    }
    found: dict[int, Layers] = {}
    for resource, site in resources:
        buffer = timedelta(minutes=resource.buffer_minutes)
        found[_id(resource)] = Layers(
            open=open_by_site[_id(site)],
            blackouts=[
                (Interval(b.start_at, b.end_at), b)
                for b in blackouts
                if b.site_id == site.id and b.resource_id in (None, resource.id)
            ],
            # A booking [s, e) keeps others out of [s - buffer, e + buffer).
            busy=[
                (Interval(b.start_at - buffer, b.blocked_until), b)
                for b in busy_by_resource.get(_id(resource), ())
                if b.start_at < end + buffer
            ],
        )
    return found


def layers(
    *,
    session: Session,
    resource: Resource,
    site: Site,
    start: datetime,
    end: datetime,
    ignore_reservation_id: int | None = None,
) -> Layers:
    return layers_many(
        session=session,
        resources=[(resource, site)],
        start=start,
        end=end,
        ignore_reservation_id=ignore_reservation_id,
    )[_id(resource)]


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
    account_id: int | None = None,
) -> list[Interval]:
    """What a maker (the account, if given) may book on `resource` between start and end."""
    return free_intervals_many(
        session=session,
        resources=[(resource, site)],
        start=start,
        end=end,
        now=now,
        account_id=account_id,
    )[_id(resource)]


def free_intervals_many(
    *,
    session: Session,
    resources: Sequence[tuple[Resource, Site]],
    start: datetime,
    end: datetime,
    now: datetime,
    account_id: int | None = None,
) -> dict[int, list[Interval]]:
    """What a maker may book on each resource between start and end.

    Free time is trimmed to whole slots and stretches too short for a booking are
    left out, so that every stretch shown can be booked; a let room is free only to
    its tenant (`account_id`; nobody's when not given).
    """
    windows = _windows(resources, start, end, now)
    wanted = [(r, s) for r, s in resources if _bookable(windows[_id(r)])]
    if not wanted:
        return {rid: [] for rid in windows}
    lo = min(windows[_id(r)][1].start for r, _ in wanted)
    hi = max(windows[_id(r)][1].end for r, _ in wanted)
    every = layers_many(session=session, resources=wanted, start=lo, end=hi)
    return closed_to(
        session=session,
        free=_free(every, resources, windows),
        resources=wanted,
        account_id=account_id,
        start=lo,
        end=hi,
    )


def layers_and_free_many(
    *,
    session: Session,
    resources: Sequence[tuple[Resource, Site]],
    start: datetime,
    end: datetime,
    now: datetime,
) -> tuple[dict[int, Layers], dict[int, list[Interval]]]:
    """Each resource's layers over [start, end), and what `free_intervals_many` calls free.

    One read of the layers serves both, so a page showing why time is not free
    (closed, blacked out, taken) shows free exactly what the API answers.
    """
    windows = _windows(resources, start, end, now)
    looked = [windows[_id(r)][1] for r, _ in resources if _bookable(windows[_id(r)])]
    lo = min([start, *(iv.start for iv in looked)])
    hi = max([end, *(iv.end for iv in looked)])
    every = layers_many(session=session, resources=resources, start=lo, end=hi)
    return every, _free(every, resources, windows)


def _windows(
    resources: Sequence[tuple[Resource, Site]], start: datetime, end: datetime, now: datetime
) -> dict[int, tuple[Interval, Interval]]:
    """Per resource: the part of [start, end) it may be booked in, and the range to look at."""
    found: dict[int, tuple[Interval, Interval]] = {}
    for resource, _site in resources:
        window = bookable_window(resource=resource, now=now)
        lo, hi = max(start, window.start), min(end, window.end)
        # Look past the asked range so that a stretch it cuts is judged by its full length.
        reach = timedelta(minutes=resource.min_minutes + resource.slot_minutes)
        found[_id(resource)] = (
            Interval(lo, hi),
            Interval(max(lo - reach, window.start), min(hi + reach, window.end)),
        )
    return found


def _bookable(window: tuple[Interval, Interval]) -> bool:
    return window[0].start < window[0].end


def _free(
    every: dict[int, Layers],
    resources: Sequence[tuple[Resource, Site]],
    windows: dict[int, tuple[Interval, Interval]],
) -> dict[int, list[Interval]]:
    found: dict[int, list[Interval]] = {rid: [] for rid in windows}
    for resource, site in resources:
        shown, looked = windows[_id(resource)]
        if not _bookable((shown, looked)):
            continue
        free = clip(every[_id(resource)].free(), looked.start, looked.end)
        found[_id(resource)] = clip(
            whole_slots(free, resource=resource, site=site), shown.start, shown.end
        )
    return found


def whole_slots(free: list[Interval], *, resource: Resource, site: Site) -> list[Interval]:
    """Free time trimmed to the slot grid, without stretches shorter than a booking."""
    # Built once: this runs for every free stretch of every resource shown.
    grid = SlotGrid.of(resource, site)
    shortest = timedelta(minutes=resource.min_minutes)
    found = []
    for iv in free:
        start, end = grid.ceil(iv.start), grid.floor(iv.end)
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


def conflict_with(other: Reservation | Busy) -> Conflict:
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
