"""The InfluxDB telemetry store: reads with InfluxQL over /query (answered by InfluxDB 1.x,
2.x, 3.x); writes, when the store writes at all, through `InfluxWriter` (influxwriter.py).

Only the listener writes. The web app's store is read-only: it queries, and starts
neither the WriteApi's threads nor the spool's replay thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from influxdb_client import InfluxDBClient, WriteOptions

from service.config import InfluxSettings

from . import lineproto
from .influxql import InfluxQL
from .influxwriter import InfluxWriter
from .spool import Spool
from .store import Point


class InfluxTelemetryStore:
    """TelemetryStore on InfluxDB with a disk spool for what it cannot take right now.

    `read_only=True` gives a store that only queries (no writer, no spool, no threads).
    """

    def __init__(
        self,
        settings: InfluxSettings,
        spool_dir: Path | str | None,
        *,
        read_only: bool = False,
        write_options: WriteOptions | None = None,
        replay_every: float = 1.0,
        timeout_ms: int = 10_000,
    ) -> None:
        self.settings = settings
        self.bucket, self.org = settings.bucket, settings.org
        self._client = InfluxDBClient(
            url=settings.url, token=settings.token, org=settings.org, timeout=timeout_ms
        )
        self._query = InfluxQL(settings, timeout_s=timeout_ms / 1000)
        self._closed = False
        self._writer: InfluxWriter | None = None
        if not read_only:
            if spool_dir is None:
                raise ValueError("a store that writes needs a spool folder")
            self._writer = InfluxWriter(
                self._client,
                bucket=self.bucket,
                org=self.org,
                spool_dir=spool_dir,
                ping=self.ping,
                write_options=write_options,
                replay_every=replay_every,
                timeout_ms=timeout_ms,
            )

    @property
    def read_only(self) -> bool:
        return self._writer is None

    @property
    def writer(self) -> InfluxWriter:
        if self._writer is None:
            raise RuntimeError("this InfluxDB store is read-only")
        return self._writer

    @property
    def spool(self) -> Spool:
        return self.writer.spool

    @property
    def counters(self) -> dict[str, int]:
        return self.writer.counters

    # -- writing -------------------------------------------------------------------------

    def write(self, points: Sequence[Point]) -> None:
        """Returns once the points are in InfluxDB or in the spool."""
        self.writer.write(lineproto.encode(points))

    def replay(self) -> bool:
        """Send spooled batches, oldest first; True when the spool is empty afterwards."""
        return self.writer.replay()

    def flush(self) -> None:
        """Wait until every write handed to the WriteApi is written or spooled."""
        if self._writer is not None:
            self._writer.flush()

    # -- lifecycle -----------------------------------------------------------------------

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except Exception:  # noqa: BLE001
            return False

    def close(self) -> None:
        """Flush and stop the writer (if any), then release the connections; idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._writer.close()
        self._query.close()
        self._client.close()

    # -- reading -------------------------------------------------------------------------

    def history(
        self,
        *,
        site: str,
        resource: str,
        field: str,
        start: datetime,
        end: datetime,
        every: timedelta | None,
    ) -> list[tuple[datetime, float | str | None]]:
        return self._query.history(
            site=site, resource=resource, field=field, start=start, end=end, every=every
        )

    def latest(self, *, site: str, resource: str) -> dict[str, object]:
        return self._query.latest(site=site, resource=resource)
