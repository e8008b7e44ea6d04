"""The utilisation report's sums in SQL: one pass over reservations, one over usage sessions.

Each row is counted whole in the bucket it starts in (a CASE over the bucket edges); when
some group's earliest start or latest end lies outside its bucket, the few rows that do
(overnight, over a month's end, begun before the period) are read once more and shared
out over the buckets they overlap. Sums are grouped by site, kind or resource and bucket.
On SQLite, for month buckets, the first pass reads one index range per resource and bucket
instead (report_ranges.py: SQLite sorts to GROUP BY); the spill is the same on both.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, and_, case, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from ..models import Reservation, ReservationStatus, Resource, UsageSession
from ..models.types import UTCDateTime
from .buckets import Bucket
from .report_ranges import pays_off, sums_by_range

# Booked hours: every reservation but a cancelled one held the resource (a no-show kept
# others off until it was declared).
# Reached their start: the booker was expected (pending bookings were never confirmed).
EXPECTED = (
    ReservationStatus.confirmed,
    ReservationStatus.active,
    ReservationStatus.completed,
    ReservationStatus.no_show,
)


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _seconds(session: Session, start: Any, end: Any) -> ColumnElement[Any]:
    if _sqlite(session):
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def _edge(moment: datetime) -> Any:
    return literal(moment, UTCDateTime)


def _search(start: Any, spans: Sequence[Bucket], lo: int, hi: int, pick: Any) -> Any:
    """A CASE that halves the buckets [lo, hi) at each step: a year of months in 4 tests."""
    if hi - lo == 1:
        return pick(lo)
    mid = (lo + hi) // 2
    return case(
        (start < _edge(spans[mid].start), _search(start, spans, lo, mid, pick)),
        else_=_search(start, spans, mid, hi, pick),
    )


def _first_bucket(start: Any, spans: Sequence[Bucket]) -> tuple[Any, Any]:
    """The index and the end of the bucket a row starts in (before the period: the first)."""
    index = _search(start, spans, 0, len(spans), lambda i: literal(i, Integer))
    end = _search(start, spans, 0, len(spans), lambda i: _edge(spans[i].end))
    return index, end


def _aware(value: datetime | str) -> datetime:
    """A time as SQLite or PostgreSQL hands back an aggregate of it, in UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _first_index(spans: Sequence[Bucket], start: datetime) -> int:
    return next((i for i, b in enumerate(spans) if start < b.end), len(spans) - 1)


def _overlaps(spans: Sequence[Bucket], start: datetime, end: datetime) -> list[tuple[int, float]]:
    """Seconds of [start, end) in each bucket it overlaps."""
    return [
        (i, (min(end, b.end) - max(start, b.start)).total_seconds())
        for i, b in enumerate(spans)
        if b.start < end and start < b.end
    ]


def _overflows(spans: Sequence[Bucket], i: int, earliest: Any, latest: Any) -> bool:
    """Whether some row counted in bucket i began before it or ran past its end."""
    if earliest is None or latest is None:
        return False
    return _aware(earliest) < spans[i].start or _aware(latest) > spans[i].end


def _grouped(
    session: Session,
    rows: Any,
    key: Any,
    first: Any,
    spans: Sequence[Bucket],
    sums: Sequence[Any],
    start: Any,
    end: Any,
) -> Iterator[tuple[Any, ...]]:
    """Rows (group key, bucket index, *sums, overflowed) from one GROUP BY key and bucket."""
    statement = rows.with_only_columns(key, first, *sums, func.min(start), func.max(end))
    for k, i, *values, earliest, latest in session.connection().execute(
        statement.group_by(key, first)
    ):
        yield (k, i, *values, _overflows(spans, i, earliest, latest))


def _source(table: Any, group: str, site_ids: list[int] | None) -> tuple[Any, Any]:
    """The group's column and the rows of `table` to read (None: every site's).

    Resources are joined only when needed: a year of one site-wide table is read faster
    straight through than resource by resource.
    """
    resource_id = col(table.resource_id)
    key = {"site": col(Resource.site_id), "kind": col(Resource.kind)}.get(group, resource_id)
    rows = select(table)
    if group != "resource" or site_ids is not None:
        rows = rows.join(Resource, col(Resource.id) == resource_id)
    if site_ids is not None:
        rows = rows.where(col(Resource.site_id).in_(site_ids))
    return key, rows


def reservation_sums(
    session: Session,
    group: str,
    spans: Sequence[Bucket],
    period: Bucket,
    site_ids: list[int] | None,
    now: datetime,
) -> dict[tuple[str, int], tuple[float, int, int]]:
    """(group, bucket) → (booked seconds, reservations that reached their start, no-shows)."""
    r = Reservation
    key, rows = _source(r, group, site_ids)
    start, end = col(r.start_at), col(r.end_at)
    first, first_end = _first_bucket(start, spans)
    # Grouped by its name: PostgreSQL sees a repeated expression with parameters as another.
    first = first.label("bucket_i")
    # Counted in the bucket it starts in, once it has started.
    started = and_(start >= period.start, start <= now)
    expected = and_(started, col(r.status).in_(EXPECTED))
    no_show = and_(started, col(r.status) == ReservationStatus.no_show)
    # "Not cancelled" rather than a list of states: no planner picks the status index then.
    filters = (col(r.status) != ReservationStatus.cancelled, end > period.start)
    rows = rows.where(start < period.end, *filters)
    sums = (
        func.sum(_seconds(session, start, end)),
        func.sum(case((expected, 1), else_=0)),
        func.sum(case((no_show, 1), else_=0)),
    )
    firsts = (
        sums_by_range(session, r, group, spans, site_ids, sums, end, filters)
        if _sqlite(session) and pays_off(spans)
        else _grouped(session, rows, key, first, spans, sums, start, end)
    )
    found: dict[tuple[str, int], tuple[float, int, int]] = {}
    overflow = False
    for k, i, s, n, m, spilled in firsts:
        found[(str(k), i)] = (float(s or 0), int(n or 0), int(m or 0))
        overflow = overflow or spilled
    if not overflow:
        return found
    # The few rows that began before the period or ran past their bucket: counted whole in
    # their first bucket above, now shared out over the buckets they overlap.
    spill = rows.where(or_(end > first_end, start < period.start)).with_only_columns(
        key, start, end
    )
    for k, row_start, row_end in session.connection().execute(spill):
        row_start, row_end = _aware(row_start), _aware(row_end)
        whole = (row_end - row_start).total_seconds()
        moves = [(_first_index(spans, row_start), -whole), *_overlaps(spans, row_start, row_end)]
        for i, seconds in moves:
            booked, n, m = found.get((str(k), i), (0.0, 0, 0))
            found[(str(k), i)] = (booked + seconds, n, m)
    return found


def run_sums(
    session: Session,
    group: str,
    spans: Sequence[Bucket],
    period: Bucket,
    site_ids: list[int] | None,
) -> dict[tuple[str, int], tuple[float, float]]:
    """(group, bucket) → (run seconds, energy Wh), a session shared out by its overlap."""
    u = UsageSession
    key, rows = _source(u, group, site_ids)
    start = col(u.start_at)
    end = func.coalesce(col(u.end_at), col(u.last_sample_at))
    first, first_end = _first_bucket(start, spans)
    first = first.label("bucket_i")
    filters = (or_(end > period.start, start >= period.start),)
    rows = rows.where(start < period.end, *filters)
    sums = (func.sum(col(u.run_seconds)), func.sum(col(u.energy_wh)))
    firsts = (
        sums_by_range(session, u, group, spans, site_ids, sums, end, filters)
        if _sqlite(session) and pays_off(spans)
        else _grouped(session, rows, key, first, spans, sums, start, end)
    )
    found: dict[tuple[str, int], tuple[float, float]] = {}
    overflow = False
    for k, i, s, e, spilled in firsts:
        found[(str(k), i)] = (float(s or 0), float(e or 0))
        overflow = overflow or spilled
    if not overflow:
        return found
    spill = rows.where(or_(end > first_end, start < period.start)).with_only_columns(
        key, start, end, col(u.run_seconds), col(u.energy_wh)
    )
    for k, row_start, row_end, run_seconds, wh in session.connection().execute(spill):
        row_start, row_end = _aware(row_start), _aware(row_end)
        whole = (row_end - row_start).total_seconds()
        if whole <= 0:
            continue
        shares = [(_first_index(spans, row_start), -whole), *_overlaps(spans, row_start, row_end)]
        for i, seconds in shares:
            ran, used = found.get((str(k), i), (0.0, 0.0))
            found[(str(k), i)] = (ran + run_seconds * seconds / whole, used + wh * seconds / whole)
    return found
