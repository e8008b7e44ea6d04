"""The embedded telemetry store: time series in the SQL database, when no InfluxDB is set.

It answers like the InfluxDB store: a point's key is (site, resource, field, ms), a
second write of the same key overwrites it, `every` buckets are aligned to the epoch
and hold the mean (the last value for text), and empty buckets are left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from service.models import TelemetryPoint

from .store import HistoryQuery, Point, Samples

# Rows per INSERT statement; keeps PostgreSQL under its 65,535 bind parameters.
CHUNK = 1000
_TABLE = TelemetryPoint.__table__  # type: ignore[attr-defined]


def epoch_ms(ts: datetime) -> int:
    if ts.tzinfo is None:
        raise ValueError("naive datetime refused: times must carry a time zone")
    return int(ts.timestamp() * 1000)


def _when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _row(point: Point, name: str, value: object) -> dict[str, Any]:
    row: dict[str, Any] = {
        "site": point.site,
        "resource": point.resource,
        "field": name,
        "ts_ms": epoch_ms(point.ts),
        "kind": point.kind,
        "value_num": None,
        "value_text": None,
    }
    if isinstance(value, bool):
        row["vtype"], row["value_num"] = "b", float(value)
    elif isinstance(value, int):
        row["vtype"], row["value_num"] = "i", float(value)
    elif isinstance(value, float):
        row["vtype"], row["value_num"] = "f", value
    else:
        row["vtype"], row["value_text"] = "s", str(value)[:256]
    return row


def _rows(points: Sequence[Point]) -> Iterator[dict[str, Any]]:
    # A batch may hold the same key twice; as in InfluxDB the later write wins.
    seen: dict[tuple[str, str, str, int], dict[str, Any]] = {}
    for point in points:
        for name, value in point.fields.items():
            row = _row(point, name, value)
            seen[(row["site"], row["resource"], row["field"], row["ts_ms"])] = row
    yield from seen.values()


class SqlTelemetryStore:
    """Telemetry in the `telemetry_point` table of the service's own database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        self._insert = dialect.insert

    def write(self, points: Sequence[Point]) -> None:
        """Upsert the points in one transaction; durable when this returns."""
        rows = list(_rows(points))
        if not rows:
            return
        statement = self._insert(_TABLE)
        statement = statement.on_conflict_do_update(
            index_elements=["site", "resource", "field", "ts_ms"],
            set_={
                "kind": statement.excluded.kind,
                "vtype": statement.excluded.vtype,
                "value_num": statement.excluded.value_num,
                "value_text": statement.excluded.value_text,
            },
        )
        with self.engine.begin() as conn:
            for start in range(0, len(rows), CHUNK):
                conn.execute(statement, rows[start : start + CHUNK])

    def flush(self) -> None:
        """Nothing is buffered: every write is committed before it returns."""

    def close(self) -> None:
        """The engine belongs to the caller; nothing to release."""

    def history(self, query: HistoryQuery) -> Samples:
        """Raw values of `field` in [start, end), or per `every` bucket (mean; last for text)."""
        site, resource, field, start, end, every = query
        ts = col(TelemetryPoint.ts_ms)
        where = and_(
            col(TelemetryPoint.site) == site,
            col(TelemetryPoint.resource) == resource,
            col(TelemetryPoint.field) == field,
            ts >= epoch_ms(start),
            ts < epoch_ms(end),
        )
        columns = (ts, col(TelemetryPoint.value_num), col(TelemetryPoint.value_text))
        with self.engine.connect() as conn:
            if every is None:
                rows = conn.execute(select(*columns).where(where).order_by(ts)).all()
                return [(_when(ms), num if text is None else text) for ms, num, text in rows]
            step = max(1, every // timedelta(milliseconds=1))
            bucket = ts - (ts % step)
            means = conn.execute(
                select(bucket.label("bucket"), func.avg(TelemetryPoint.value_num))
                .where(where, col(TelemetryPoint.value_num).is_not(None))
                .group_by(bucket)
            ).all()
            answer: dict[int, float | str | None] = {
                int(b): float(mean) for b, mean in means if mean is not None
            }
            answer.update(self._last_texts(conn, where, bucket, answer.keys()))
        return [(_when(ms), answer[ms]) for ms in sorted(answer)]

    @staticmethod
    def _last_texts(conn: Any, where: Any, bucket: Any, numeric: Any) -> dict[int, str]:
        # Text fields (state) have no mean: a bucket holds its last value.
        rows = conn.execute(
            select(bucket.label("bucket"), col(TelemetryPoint.value_text))
            .where(where, col(TelemetryPoint.value_text).is_not(None))
            .order_by(col(TelemetryPoint.ts_ms))
        ).all()
        taken = set(numeric)
        return {int(b): text for b, text in rows if int(b) not in taken}

    def latest(self, *, site: str, resource: str) -> dict[str, object]:
        """The newest value of each field, and under "ts" the time of the newest point."""
        newest = (
            select(col(TelemetryPoint.field), func.max(TelemetryPoint.ts_ms).label("ts_ms"))
            .where(col(TelemetryPoint.site) == site, col(TelemetryPoint.resource) == resource)
            .group_by(col(TelemetryPoint.field))
            .subquery()
        )
        statement = select(
            col(TelemetryPoint.field),
            col(TelemetryPoint.ts_ms),
            col(TelemetryPoint.value_num),
            col(TelemetryPoint.value_text),
        ).where(
            col(TelemetryPoint.site) == site,
            col(TelemetryPoint.resource) == resource,
            tuple_(col(TelemetryPoint.field), col(TelemetryPoint.ts_ms)).in_(
                select(newest.c.field, newest.c.ts_ms)
            ),
        )
        with self.engine.connect() as conn:
            rows = conn.execute(statement).all()
        if not rows:
            return {}
        values: dict[str, object] = {
            name: num if text is None else text for name, _ms, num, text in rows
        }
        values["ts"] = _when(max(ms for _name, ms, _num, _text in rows))
        return values
