"""The utilisation report's first pass on SQLite: one index range per resource and bucket.

SQLite has no hash aggregate: a GROUP BY resource and bucket sorts every row of the period,
and picks each row's bucket with a CASE over the edges. Here the outer query lists every
resource and bucket, and each pair sums its own range of the covering index that starts
with (resource_id, start_at): rows come in index order, no row is sorted, and the bucket
is the range itself. The sums come back as one JSON array per pair (a scalar subquery has
one column) and are added up per group here. The first bucket has no lower edge, so rows
begun before the period are counted there, as the GROUP BY does on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, func, literal, or_, select, true, union_all
from sqlmodel import Session, col

from ..models import Resource
from ..models.types import UTCDateTime
from .buckets import Bucket

# Before any stored time: the first bucket's lower edge in the index range.
BEFORE_ALL = datetime(1, 1, 1, tzinfo=UTC)
# Each resource and bucket costs a subquery: it pays off when buckets hold dozens of rows
# per resource (months); days and weeks are quicker to sort (measured on a year of 300
# machines: a month report twice as fast, weeks even, days a third slower).
LONG_ENOUGH = timedelta(days=28)


def pays_off(spans: Sequence[Bucket]) -> bool:
    """Whether buckets are long enough for one range per resource and bucket."""
    return (spans[-1].end - spans[0].start) / len(spans) >= LONG_ENOUGH


def _edges(spans: Sequence[Bucket]) -> Any:
    """The buckets as rows (i, lower edge of the range, start, end) for the outer query."""
    rows = [
        select(
            literal(i, Integer).label("i"),
            literal(BEFORE_ALL if i == 0 else b.start, UTCDateTime).label("lo"),
            literal(b.start, UTCDateTime).label("start"),
            literal(b.end, UTCDateTime).label("hi"),
        )
        for i, b in enumerate(spans)
    ]
    return (union_all(*rows) if len(rows) > 1 else rows[0]).cte("bucket")


def sums_by_range(
    session: Session,
    table: Any,
    group: str,
    spans: Sequence[Bucket],
    site_ids: list[int] | None,
    sums: Sequence[Any],
    end: Any,
    filters: Sequence[Any],
) -> Iterator[tuple[Any, ...]]:
    """Rows (group key, bucket index, *sums, overflowed) like a GROUP BY's.

    `sums` are SUM aggregates over the rows of `table` that pass `filters` and start in the
    bucket (any time before the second bucket for the first); `overflowed` says whether
    some of them began before their bucket or ran past its end (`end`). Groups without
    rows are left out.
    """
    bucket = _edges(spans)
    start = col(table.start_at)
    overflowed = or_(func.min(start) < bucket.c.start, func.max(end) > bucket.c.hi)
    figures = (
        select(func.json_array(func.count(), overflowed, *sums))
        .where(
            col(table.resource_id) == col(Resource.id),
            start >= bucket.c.lo,
            start < bucket.c.hi,
            *filters,
        )
        .scalar_subquery()
    )
    key = {"site": col(Resource.site_id), "kind": col(Resource.kind)}.get(group, col(Resource.id))
    pairs = select(key.label("k"), bucket.c.i, figures.label("figures"))
    pairs = pairs.select_from(Resource).join(bucket, true())
    if site_ids is not None:
        pairs = pairs.where(col(Resource.site_id).in_(site_ids))
    pair = pairs.subquery()
    # One JSON text for all pairs: read and parsed in one call, not a row at a time.
    everything = select(
        func.json_group_array(func.json_array(pair.c.k, pair.c.i, func.json(pair.c.figures)))
    )
    text = session.connection().scalar(everything) or "[]"
    found: dict[tuple[str, int], list[Any]] = {}
    for k, i, (count, spilled, *values) in json.loads(text):
        if not count:
            continue
        seen = found.setdefault((str(k), i), [0] * len(values) + [False])
        for n, value in enumerate(values):
            seen[n] += value or 0
        seen[-1] = seen[-1] or bool(spilled)
    for (k, i), values in found.items():
        yield (k, i, *values)
