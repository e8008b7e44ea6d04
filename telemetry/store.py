"""What every telemetry store offers: write points, read history and latest values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

FieldValue = float | int | str | bool


class StoreUnavailable(RuntimeError):
    """The store could not be reached or did not answer; worth trying again later."""


class Point(NamedTuple):
    """One sample of a resource: tags (site, resource, kind), a time and its fields."""

    site: str
    resource: str
    kind: str
    ts: datetime
    fields: dict[str, FieldValue]


Samples = list[tuple[datetime, float | str | None]]


class HistoryQuery(NamedTuple):
    """One field of one resource in [start, end): raw values, or their mean per `every`."""

    site: str
    resource: str
    field: str
    start: datetime
    end: datetime
    every: timedelta | None = None


class TelemetryStore(Protocol):
    """A time-series store; InfluxDB in production, SQL when none is configured."""

    def write(self, points: Sequence[Point]) -> None:
        """Store `points`; returns once they are durable (written or spooled)."""

    def flush(self) -> None:
        """Push out anything buffered."""

    def close(self) -> None:
        """Flush and release connections; the store is unusable afterwards."""

    def history(self, query: HistoryQuery) -> Samples:
        """Values of `field` in [start, end), or their mean per `every` bucket."""
        ...

    def latest(self, *, site: str, resource: str) -> dict[str, object]:
        """The newest value of every field of the resource, plus its time under "ts"."""
        ...
