"""The utilisation report's sums in SQL: one pass over reservations, one over usage sessions.

Each row is counted in the bucket it starts in (a CASE over the bucket edges), cut at that
bucket's end; the few rows that run past it (overnight, or over a month's end) are read
once more and shared out over the later buckets they overlap. Sums are grouped by site,
kind or resource and bucket. SQLite and PostgreSQL differ only in how they subtract times
and take the larger of two values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, and_, case, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from ..models import Reservation, ReservationStatus, Resource, UsageSession
from ..models.types import UTCDateTime
from .buckets import Bucket

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


def _clipped(session: Session, start: Any, end: Any, lo: Any, hi: Any) -> ColumnElement[Any]:
    """Seconds of [start, end) between lo and hi (callers pick rows that overlap them)."""
    least, greatest = (func.min, func.max) if _sqlite(session) else (func.least, func.greatest)
    return _seconds(session, greatest(start, lo), least(end, hi))


def _edge(moment: datetime) -> Any:
    return literal(moment, UTCDateTime)


def _first_bucket(start: Any, spans: Sequence[Bucket]) -> tuple[Any, Any]:
    """The index and the end of the bucket a row starts in (before the period: the first)."""
    if len(spans) == 1:
        return literal(0, Integer), _edge(spans[0].end)
    inside = [(start < _edge(b.end), i, _edge(b.end)) for i, b in enumerate(spans[:-1])]
    index = case(*((when, i) for when, i, _ in inside), else_=len(spans) - 1)
    end = case(*((when, edge) for when, _, edge in inside), else_=_edge(spans[-1].end))
    return index, end


def _past_first(spans: Sequence[Bucket], start: datetime, end: datetime) -> list[tuple[int, float]]:
    """Seconds of [start, end) in each bucket after the one it starts in (SQL counted that one).

    Only rows that run past their first bucket come here: few (overnight, a month's end).
    """
    if start.tzinfo is None:  # SQLite hands back naive UTC from a bare column
        start, end = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
    first = next((i for i, b in enumerate(spans) if start < b.end), len(spans) - 1)
    return [
        (i, (min(end, b.end) - b.start).total_seconds())
        for i, b in enumerate(spans)
        if i > first and b.start < end
    ]


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
    rows = rows.where(
        col(r.status) != ReservationStatus.cancelled, start < period.end, end > period.start
    )
    statement = rows.with_only_columns(
        key,
        first,
        func.sum(_clipped(session, start, end, _edge(period.start), first_end)),
        func.sum(case((expected, 1), else_=0)),
        func.sum(case((no_show, 1), else_=0)),
        func.sum(case((end > first_end, 1), else_=0)),
    ).group_by(key, first)
    found: dict[tuple[str, int], tuple[float, int, int]] = {}
    spilling = 0
    for k, i, s, n, m, past in session.connection().execute(statement):
        found[(str(k), i)] = (float(s or 0), int(n or 0), int(m or 0))
        spilling += int(past or 0)
    if not spilling:
        return found
    spill = rows.where(end > first_end).with_only_columns(key, start, end)
    for k, row_start, row_end in session.connection().execute(spill):
        for i, seconds in _past_first(spans, row_start, row_end):
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
    """(group, bucket) → (run seconds, energy Wh), each session shared out by its overlap."""
    u = UsageSession
    key, rows = _source(u, group, site_ids)
    start = col(u.start_at)
    end = func.coalesce(col(u.end_at), col(u.last_sample_at))
    span = _seconds(session, start, end)
    first, first_end = _first_bucket(start, spans)
    first = first.label("bucket_i")
    # Most sessions lie inside one bucket: only those that do not are measured.
    inside = and_(start >= period.start, end <= first_end)
    share = case(
        (inside, 1.0),
        (span > 0, _clipped(session, start, end, _edge(period.start), first_end) / span),
        else_=1.0,
    )
    rows = rows.where(start < period.end, or_(end > period.start, start >= period.start))
    statement = rows.with_only_columns(
        key,
        first,
        func.sum(col(u.run_seconds) * share),
        func.sum(col(u.energy_wh) * share),
        func.sum(case((end > first_end, 1), else_=0)),
    ).group_by(key, first)
    found: dict[tuple[str, int], tuple[float, float]] = {}
    spilling = 0
    for k, i, s, e, past in session.connection().execute(statement):
        found[(str(k), i)] = (float(s or 0), float(e or 0))
        spilling += int(past or 0)
    if not spilling:
        return found
    spill = rows.where(end > first_end, span > 0).with_only_columns(
        key, start, end, col(u.run_seconds), col(u.energy_wh)
    )
    for k, row_start, row_end, run_seconds, wh in session.connection().execute(spill):
        whole = (row_end - row_start).total_seconds()
        for i, seconds in _past_first(spans, row_start, row_end):
            ran, used = found.get((str(k), i), (0.0, 0.0))
            found[(str(k), i)] = (ran + run_seconds * seconds / whole, used + wh * seconds / whole)
    return found
