"""The utilisation report's sums in SQL: one pass over reservations, one over usage sessions.

Each row is joined to the buckets it overlaps (a small derived table) and clipped to
them; the sums are grouped by site, kind or resource and bucket. SQLite and PostgreSQL
differ only in how they subtract times and take the larger of two values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, case, func, literal, or_, select, union_all
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from ..models import Reservation, ReservationStatus, Resource, UsageSession
from ..models.types import UTCDateTime
from .buckets import Bucket

# Held the resource: booked and not cancelled; a no-show kept others off until it was declared.
BOOKED = (
    ReservationStatus.pending,
    ReservationStatus.confirmed,
    ReservationStatus.active,
    ReservationStatus.completed,
    ReservationStatus.no_show,
)
# Reached their start: the booker was expected (pending bookings were never confirmed).
EXPECTED = (
    ReservationStatus.confirmed,
    ReservationStatus.active,
    ReservationStatus.completed,
    ReservationStatus.no_show,
)


def _bucket_table(spans: Sequence[Bucket]) -> Any:
    """The buckets as a small derived table (i, start_at, end_at), in SQL both databases speak."""
    rows = [
        select(
            literal(i, Integer).label("i"),
            literal(b.start, UTCDateTime).label("start_at"),
            literal(b.end, UTCDateTime).label("end_at"),
        )
        for i, b in enumerate(spans)
    ]
    return (union_all(*rows) if len(rows) > 1 else rows[0]).subquery("bucket")


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _seconds(session: Session, start: Any, end: Any) -> ColumnElement[Any]:
    if _sqlite(session):
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def _overlap(session: Session, start: Any, end: Any, bucket: Any) -> ColumnElement[Any]:
    """Seconds of [start, end) inside the bucket (rows are joined only where they overlap)."""
    least, greatest = (func.min, func.max) if _sqlite(session) else (func.least, func.greatest)
    return _seconds(session, greatest(start, bucket.c.start_at), least(end, bucket.c.end_at))


def group_column(group: str) -> Any:
    if group == "site":
        return col(Resource.site_id)
    if group == "kind":
        return col(Resource.kind)
    return col(Resource.id)


def reservation_sums(
    session: Session,
    group: str,
    spans: Sequence[Bucket],
    period: Bucket,
    scope: Any,
    now: datetime,
) -> dict[tuple[str, int], tuple[float, int, int]]:
    """(group, bucket) → (booked seconds, reservations that reached their start, no-shows)."""
    key, bucket, r = group_column(group), _bucket_table(spans), Reservation
    # Counted in the bucket it starts in, once it has started.
    started = and_(col(r.start_at) >= bucket.c.start_at, col(r.start_at) <= now)
    expected = and_(started, col(r.status).in_(EXPECTED))
    no_show = and_(started, col(r.status) == ReservationStatus.no_show)
    statement = (
        select(
            key,
            bucket.c.i,
            func.sum(_overlap(session, col(r.start_at), col(r.end_at), bucket)),
            func.sum(case((expected, 1), else_=0)),
            func.sum(case((no_show, 1), else_=0)),
        )
        .select_from(r)
        .join(Resource, col(Resource.id) == col(r.resource_id))
        .join(bucket, and_(col(r.start_at) < bucket.c.end_at, col(r.end_at) > bucket.c.start_at))
        .where(
            col(r.status).in_(BOOKED),
            col(r.start_at) < period.end,
            col(r.end_at) > period.start,
            scope,
        )
        .group_by(key, bucket.c.i)
    )
    return {
        (str(k), i): (float(s or 0), int(n or 0), int(m or 0))
        for k, i, s, n, m in session.connection().execute(statement)
    }


def run_sums(
    session: Session, group: str, spans: Sequence[Bucket], period: Bucket, scope: Any
) -> dict[tuple[str, int], tuple[float, float]]:
    """(group, bucket) → (run seconds, energy Wh), each session shared out by its overlap."""
    key, bucket, u = group_column(group), _bucket_table(spans), UsageSession
    end = func.coalesce(col(u.end_at), col(u.last_sample_at))
    span = _seconds(session, col(u.start_at), end)
    # The share of the session inside the bucket; a session of no length lies where it starts.
    share = case((span > 0, _overlap(session, col(u.start_at), end, bucket) / span), else_=1.0)
    statement = (
        select(
            key,
            bucket.c.i,
            func.sum(col(u.run_seconds) * share),
            func.sum(col(u.energy_wh) * share),
        )
        .select_from(u)
        .join(Resource, col(Resource.id) == col(u.resource_id))
        .join(
            bucket,
            and_(
                col(u.start_at) < bucket.c.end_at,
                or_(end > bucket.c.start_at, col(u.start_at) >= bucket.c.start_at),
            ),
        )
        .where(col(u.start_at) < period.end, scope)
        .group_by(key, bucket.c.i)
    )
    rows = session.connection().execute(statement)
    return {(str(k), i): (float(s or 0), float(e or 0)) for k, i, s, e in rows}
