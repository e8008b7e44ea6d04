"""The booking timeline: machines or rooms × time, each cell free, reserved, blacked out,
let to a tenant or closed.

Cells take their state from the availability layers (`layers_and_free_many`) and the
tenancy rule (`let_to_others`): a cell is free exactly where the API's availability
says the time is free for the viewer; otherwise it names what keeps it from being booked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import reduce
from itertools import pairwise

from sqlmodel import Session

from ..models import Resource, Site
from .availability import Layers, free_intervals, layers_and_free_many
from .hours import opening_intervals
from .intervals import Interval, clip, merge, subtract
from .sitetime import SlotGrid
from .tenancy import let_to_others


class State(StrEnum):
    free = "free"
    reserved = "reserved"
    blackout = "blackout"
    # A let room, to anyone who is not its tenant (the account or the company's people).
    rented = "rented"
    closed = "closed"
    # Open and not taken, yet not bookable: past, too soon, the pause after a booking,
    # a gap shorter than the shortest booking, or further ahead than bookings reach.
    unavailable = "unavailable"


# A cell that is not wholly free shows the first of these it holds.
PRIORITY = (State.reserved, State.blackout, State.rented, State.closed, State.unavailable)


class Part(StrEnum):
    """The coarse cells of the week view: parts of a day in the site's local time."""

    morning = "morning"
    afternoon = "afternoon"
    evening = "evening"


PARTS = ((Part.morning, time(0), time(12)), (Part.afternoon, time(12), time(17)))
EVENING = (Part.evening, time(17))  # until midnight


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell of a row: its span of time, its state and how many columns it covers."""

    start: datetime
    end: datetime
    state: State
    span: int = 1
    free_minutes: int = 0
    # The booking a free cell proposes: whole slots, at least the shortest booking.
    pick: Interval | None = None


@dataclass(frozen=True)
class Row:
    resource: Resource
    cells: list[Cell]


@dataclass(frozen=True, slots=True)
class Heading:
    """A column (or a group of columns) of the header."""

    start: datetime
    end: datetime
    span: int = 1
    part: Part | None = None


@dataclass(frozen=True)
class Timeline:
    site: Site
    start: datetime
    end: datetime
    days: list[date]
    # The header's upper row (hours of a day, or the days of a week) and its columns.
    groups: list[Heading] = field(default_factory=list)
    columns: list[Heading] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)

    @property
    def open(self) -> bool:
        """Is the site open at some time shown?"""
        return bool(self.columns)


def _local_day(day: date, site: Site) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=site.zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def _intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """The intersection of two merged lists, in one pass over both."""
    found, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i].start, b[j].start), min(a[i].end, b[j].end)
        if lo < hi:
            found.append(Interval(lo, hi))
        if a[i].end < b[j].end:
            i += 1
        else:
            j += 1
    return found


def _seconds(intervals: list[Interval], spans: Sequence[Interval]) -> list[int]:
    """For each span (sorted, disjoint), how many seconds of it the merged list covers."""
    found = []
    first = 0
    for span in spans:
        while first < len(intervals) and intervals[first].end <= span.start:
            first += 1
        covered = 0.0
        index = first
        while index < len(intervals) and intervals[index].start < span.end:
            iv = intervals[index]
            covered += (min(iv.end, span.end) - max(iv.start, span.start)).total_seconds()
            index += 1
        found.append(int(covered))
    return found


def _tally(
    layers: Layers,
    opened: list[Interval],
    free: list[Interval],
    let: list[Interval],
    spans: Sequence[Interval],
) -> list[dict[State, int]]:
    """For each span, the seconds of it each state holds (the states never overlap).

    Closed is outside `opened` (the site's hours); blacked out is open but under a
    blackout; reserved is the rest under a booking itself; rented is the rest in a
    contract the viewer is not a tenant of (`let`); free is what the API calls free
    (never inside `let`); what is left of the open time is not bookable (past, too
    soon, a pause after a booking, a gap too short, too far ahead).
    """
    out = merge(iv for iv, _ in layers.blackouts)
    blacked = _intersect(opened, out) if out else []
    usable = subtract(opened, out) if out else opened
    booked = merge(Interval(b.start_at, b.end_at) for _, b in layers.busy)
    taken = _intersect(usable, booked)
    rented = _intersect(subtract(usable, booked), let) if let else []
    found = []
    columns = zip(
        spans,
        _seconds(opened, spans),
        _seconds(blacked, spans),
        _seconds(taken, spans),
        _seconds(rented, spans),
        _seconds(free, spans),
        strict=True,
    )
    for span, open_s, blackout_s, reserved_s, rented_s, free_s in columns:
        found.append(
            {
                State.free: free_s,
                State.reserved: reserved_s,
                State.blackout: blackout_s,
                State.rented: rented_s,
                State.closed: int((span.end - span.start).total_seconds()) - open_s,
                State.unavailable: open_s - blackout_s - reserved_s - rented_s - free_s,
            }
        )
    return found


def _fine_state(tally: dict[State, int], span: Interval) -> State:
    if tally[State.free] >= (span.end - span.start).total_seconds():
        return State.free
    return next((state for state in PRIORITY if tally[state]), State.closed)


def _coarse_state(tally: dict[State, int]) -> State:
    """Free if any of it is; else closed if all of it is; else what holds most of the open time."""
    if tally[State.free]:
        return State.free
    held = [(tally[s], -PRIORITY.index(s), s) for s in PRIORITY if s != State.closed]
    seconds, _, state = max(held)
    return state if seconds else State.closed


def _pick(resource: Resource, free: list[Interval], start: datetime) -> Interval | None:
    """The shortest booking from `start`, moved earlier if its free stretch ends too soon."""
    slot = timedelta(minutes=resource.slot_minutes)
    shortest = slot * math.ceil(resource.min_minutes / resource.slot_minutes)
    for iv in free:
        if iv.start <= start < iv.end:
            begin = start if start + shortest <= iv.end else iv.end - shortest
            return Interval(max(begin, iv.start), max(begin, iv.start) + shortest)
    return None


def _edges(resource: Resource, site: Site, start: datetime, end: datetime) -> list[datetime]:
    """The resource's slot boundaries from start to end, both included."""
    grid = SlotGrid.of(resource, site)
    step = timedelta(minutes=resource.slot_minutes)
    found = [start]
    moment = grid.ceil(start)
    if moment == start:
        moment += step
    while moment < end:
        found.append(moment)
        moment += step
    found.append(end)
    return found


def _opening(
    session: Session, site: Site, every: dict[int, Layers], start: datetime, end: datetime
) -> list[Interval]:
    """The site's opening hours in the range (from the layers already read when there are any)."""
    for layers in every.values():
        return clip(layers.open, start, end)
    return opening_intervals(session=session, site=site, start=start, end=end)


def _layers_free_let(
    session: Session,
    resources: Sequence[tuple[Resource, Site]],
    start: datetime,
    end: datetime,
    now: datetime,
    account_id: int | None,
) -> tuple[dict[int, Layers], dict[int, list[Interval]], dict[int, list[Interval]]]:
    """The layers, the free time the account may book, and the days let to others."""
    every, free = layers_and_free_many(
        session=session, resources=resources, start=start, end=end, now=now
    )
    let = let_to_others(
        session=session, resources=resources, account_id=account_id, start=start, end=end
    )
    return every, {rid: subtract(spans, let.get(rid, [])) for rid, spans in free.items()}, let


def day_timeline(
    *,
    session: Session,
    site: Site,
    resources: Sequence[tuple[Resource, Site]],
    day: date,
    now: datetime,
    account_id: int | None = None,
) -> Timeline:
    """One day at `site`: a column per slot of its opening hours, a cell per resource's slot."""
    start, end = _local_day(day, site)
    every, free, let = _layers_free_let(session, resources, start, end, now, account_id)
    opened = _opening(session, site, every, start, end)
    found = Timeline(site=site, start=start, end=end, days=[day])
    if not opened:
        return found
    unit = reduce(math.gcd, (r.slot_minutes for r, _ in resources), 60)
    grid = SlotGrid(site.zone, unit * 60)
    first, last = grid.floor(opened[0].start), grid.ceil(opened[-1].end)
    step = timedelta(minutes=unit)
    count = int((last - first) / step)
    found.columns.extend(Heading(first + step * i, first + step * (i + 1)) for i in range(count))
    for column in found.columns:
        local = column.start.astimezone(site.zone)
        if found.groups and found.groups[-1].start.astimezone(site.zone).hour == local.hour:
            group = found.groups[-1]
            found.groups[-1] = Heading(group.start, column.end, group.span + 1)
        else:
            found.groups.append(Heading(column.start, column.end))
    for resource, _ in resources:
        rid = resource.id or 0
        spans = [Interval(a, b) for a, b in pairwise(_edges(resource, site, first, last))]
        tallies = _tally(every[rid], clip(opened, first, last), free[rid], let.get(rid, []), spans)
        cells = []
        for span, tally in zip(spans, tallies, strict=True):
            state = _fine_state(tally, span)
            cells.append(
                Cell(
                    start=span.start,
                    end=span.end,
                    state=state,
                    span=int((span.end - span.start) / step),
                    free_minutes=tally[State.free] // 60,
                    pick=_pick(resource, free[rid], span.start) if state == State.free else None,
                )
            )
        found.rows.append(Row(resource, cells))
    return found


def week_of(site: Site, day: date) -> tuple[date, datetime, datetime]:
    """The Monday of `day`'s week, and the week's start and end in UTC."""
    monday = day - timedelta(days=day.weekday())
    start, _ = _local_day(monday, site)
    _, end = _local_day(monday + timedelta(days=6), site)
    return monday, start, end


def _parts(day: date, site: Site) -> list[tuple[Part, Interval]]:
    zone = site.zone
    found = [
        (part, Interval(datetime.combine(day, a, zone), datetime.combine(day, b, zone)))
        for part, a, b in PARTS
    ]
    midnight = datetime.combine(day + timedelta(days=1), time(0), zone)
    found.append((EVENING[0], Interval(datetime.combine(day, EVENING[1], zone), midnight)))
    return [(p, Interval(iv.start.astimezone(UTC), iv.end.astimezone(UTC))) for p, iv in found]


def week_timeline(
    *,
    session: Session,
    site: Site,
    resources: Sequence[tuple[Resource, Site]],
    day: date,
    now: datetime,
    account_id: int | None = None,
) -> Timeline:
    """The week (Monday to Sunday) of `day`: a cell per part of each day the site opens in."""
    monday, start, end = week_of(site, day)
    days = [monday + timedelta(days=i) for i in range(7)]
    every, free, let = _layers_free_let(session, resources, start, end, now, account_id)
    opened = _opening(session, site, every, start, end)
    found = Timeline(site=site, start=start, end=end, days=days)
    if not opened:
        return found
    # Only the parts of a day the site ever opens in this week, the same for every day.
    used = {part for d in days for part, iv in _parts(d, site) if _intersect([iv], opened)}
    for d in days:
        parts = [(part, iv) for part, iv in _parts(d, site) if part in used]
        found.groups.append(Heading(parts[0][1].start, parts[-1][1].end, len(parts)))
        found.columns.extend(Heading(iv.start, iv.end, part=part) for part, iv in parts)
    spans = [Interval(c.start, c.end) for c in found.columns]
    for resource, _ in resources:
        rid = resource.id or 0
        tallies = _tally(every[rid], opened, free[rid], let.get(rid, []), spans)
        found.rows.append(
            Row(
                resource,
                [
                    Cell(
                        start=span.start,
                        end=span.end,
                        state=_coarse_state(tally),
                        free_minutes=tally[State.free] // 60,
                    )
                    for span, tally in zip(spans, tallies, strict=True)
                ],
            )
        )
    return found


@dataclass(frozen=True)
class Choice:
    """The ends a booking starting at a moment may have, and whether that start is free."""

    ends: list[datetime]
    free: bool


def end_choices(
    *,
    session: Session,
    resource: Resource,
    site: Site,
    start: datetime,
    now: datetime,
    account_id: int | None = None,
) -> Choice:
    """Every slot boundary from the shortest to the longest booking after `start`.

    When `start` is free, only the ends inside its free stretch; otherwise every
    duration (booking it will then say which rule refuses it).
    """
    slot = timedelta(minutes=resource.slot_minutes)
    longest = start + timedelta(minutes=resource.max_minutes)
    free = free_intervals(
        session=session,
        resource=resource,
        site=site,
        start=start,
        end=longest,
        now=now,
        account_id=account_id,
    )
    stretch = next((iv for iv in free if iv.start <= start < iv.end), None)
    reach = stretch.end if stretch is not None else longest
    grid = SlotGrid.of(resource, site)
    moment = grid.ceil(start + timedelta(minutes=resource.min_minutes))
    ends = []
    while moment <= min(reach, longest):
        ends.append(moment)
        moment += slot
    return Choice(ends=ends, free=stretch is not None)
