"""Durable writes to InfluxDB: influxdb-client's batching WriteApi to the v2 write endpoint,
and a disk spool for what InfluxDB cannot take right now.

`write()` returns only once its points are durable, because the listener acknowledges
MQTT messages after that: either InfluxDB took the batch (success callback) or the
client gave up after its retries and the batch went to the spool on disk (error
callback). While spooled batches wait, new writes go straight to the spool, so an
outage costs one round of retries, not one per batch; a replay thread sends the spool
back, oldest first, as soon as InfluxDB answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from influxdb_client import InfluxDBClient, WriteOptions
from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.client.write_api import SYNCHRONOUS, WritePrecision
from influxdb_client.rest import ApiException
from reactivex.scheduler import ThreadPoolScheduler

from .spool import Spool

log = logging.getLogger(__name__)

# WritePrecision holds plain strings while WriteApi.write is annotated with the class.
_PRECISION = cast(WritePrecision, WritePrecision.MS)
# Statuses that mean the batch itself is wrong; replaying it would fail forever.
_REJECTED = {400, 413, 422}


def default_write_options(scheduler: ThreadPoolScheduler) -> WriteOptions:
    """Short retries: after ~8 s a batch is spooled and the listener moves on."""
    return WriteOptions(
        batch_size=1,  # one item = one write() call, already batched by the caller
        flush_interval=100,
        retry_interval=500,
        max_retries=4,
        max_retry_delay=4_000,
        max_retry_time=20_000,
        exponential_base=2,
        max_close_wait=60_000,
        write_scheduler=scheduler,
    )


@dataclass(eq=False)
class _Pending:
    data: bytes
    done: threading.Event = field(default_factory=threading.Event)
    outcome: str = ""


class InfluxWriter:
    """Writes line protocol to one bucket; starts the WriteApi and the replay thread."""

    def __init__(
        self,
        client: InfluxDBClient,
        *,
        bucket: str,
        org: str,
        spool_dir: Path | str,
        ping: Callable[[], bool],
        write_options: WriteOptions | None = None,
        replay_every: float = 1.0,
        timeout_ms: int = 10_000,
    ) -> None:
        self.bucket, self.org = bucket, org
        self.spool = Spool(Path(spool_dir))
        self.counters = {"written": 0, "spooled": 0, "replayed": 0, "rejected": 0, "retries": 0}
        self._ping = ping
        self._scheduler = ThreadPoolScheduler(max_workers=1)
        options = write_options or default_write_options(self._scheduler)
        self.wait_limit = (options.max_retry_time + 2 * timeout_ms) / 1000 + 5
        self._write_api = client.write_api(
            write_options=options,
            success_callback=self._on_success,
            error_callback=self._on_error,
            retry_callback=self._on_retry,
        )
        self._replay_api = client.write_api(write_options=SYNCHRONOUS)
        self._pending: deque[_Pending] = deque()
        self._lock = threading.Lock()
        self._degraded = bool(self.spool.files())
        self._closed = threading.Event()
        self._replay_every = replay_every
        self._replayer = threading.Thread(
            target=self._replay_loop, name="influx-replay", daemon=True
        )
        self._replayer.start()

    # -- writing -------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Returns once the batch is in InfluxDB or in the spool."""
        if self._closed.is_set():
            raise RuntimeError("the InfluxDB store is closed")
        if not data:
            return
        if self._degraded:
            self._to_spool(data)
            return
        pending = _Pending(data)
        with self._lock:
            self._pending.append(pending)
            self._write_api.write(
                bucket=self.bucket, org=self.org, record=data, write_precision=_PRECISION
            )
        if not pending.done.wait(self.wait_limit):
            # The pipeline did not answer in time; keep the batch rather than hang.
            log.error("InfluxDB write did not complete in %.0f s; spooling it", self.wait_limit)
            self._to_spool(data)
            pending.outcome = "abandoned"
            pending.done.set()

    def _resolve(self, data: bytes, outcome: str) -> None:
        """Mark the pending writes that `data` (a batch of them, in order) consisted of."""
        with self._lock:
            taken: list[_Pending] = []
            size = -1
            while self._pending and size < len(data):
                taken.append(self._pending.popleft())
                size += len(taken[-1].data) + 1
            if size != len(data) or b"\n".join(p.data for p in taken) != data:
                log.error("InfluxDB batch does not match the pending writes; keeping them in order")
                self._pending.extendleft(reversed(taken))
                taken = [p for p in self._pending if p.data in data]
                for p in taken:
                    self._pending.remove(p)
        for p in taken:
            if not p.done.is_set():
                p.outcome = outcome
                p.done.set()

    def _on_success(self, conf: tuple[str, str, str], data: bytes | str) -> None:
        body = data.encode() if isinstance(data, str) else data
        self.counters["written"] += body.count(b"\n") + 1
        self._resolve(body, "written")

    def _on_error(self, conf: tuple[str, str, str], data: bytes | str, error: Exception) -> None:
        body = data.encode() if isinstance(data, str) else data
        status = _status(error)
        if status in _REJECTED:
            path = self.spool.reject(self.spool.put(body), f"HTTP {status}: {error}")
            self.counters["rejected"] += body.count(b"\n") + 1
            log.error("InfluxDB refused a batch (HTTP %s); kept in %s", status, path)
        else:
            log.warning("InfluxDB write failed after retries (%s); spooling", _describe(error))
            self._degraded = True
            self._to_spool(body)
        self._resolve(body, "spooled")

    def _on_retry(self, conf: tuple[str, str, str], data: bytes | str, error: Exception) -> None:
        self.counters["retries"] += 1
        log.info("InfluxDB write will be retried: %s", _describe(error))

    def _to_spool(self, data: bytes) -> None:
        self.spool.put(data)
        self.counters["spooled"] += data.count(b"\n") + 1

    # -- replay --------------------------------------------------------------------------

    def replay(self) -> bool:
        """Send spooled batches, oldest first; True when the spool is empty afterwards."""
        with self.spool.replaying() as ours:
            if not ours:
                return False
            for path in self.spool.files():
                if self._closed.is_set() or not self._replay_one(path):
                    return False
        if self._degraded:
            log.info("InfluxDB answers again; spool replayed")
        self._degraded = False
        return True

    def _replay_one(self, path: Path) -> bool:
        data = self.spool.read(path)
        if data is None:
            return True
        try:
            self._replay_api.write(
                bucket=self.bucket, org=self.org, record=data, write_precision=_PRECISION
            )
        except Exception as exc:  # noqa: BLE001 - any failure means: try again later
            status = _status(exc)
            if status not in _REJECTED:
                return False
            self.spool.reject(path, f"HTTP {status}: {exc}")
            self.counters["rejected"] += data.count(b"\n") + 1
            log.error("InfluxDB refused spooled batch %s (HTTP %s)", path.name, status)
            return True
        self.spool.done(path)
        self.counters["replayed"] += data.count(b"\n") + 1
        return True

    def _replay_loop(self) -> None:
        while not self._closed.wait(self._replay_every):
            if not (self._degraded or self.spool.files()) or not self._ping():
                continue
            try:
                self.replay()
            except Exception:
                log.exception("spool replay failed")

    # -- lifecycle -----------------------------------------------------------------------

    def flush(self) -> None:
        """Wait until every write handed to the WriteApi is written or spooled."""
        deadline = time.monotonic() + self.wait_limit
        while time.monotonic() < deadline:
            with self._lock:
                waiting = next((p for p in self._pending if not p.done.is_set()), None)
            if waiting is None:
                return
            waiting.done.wait(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        """Flush, then stop the WriteApi (it drains its buffer) and the replay thread."""
        if self._closed.is_set():
            return
        self.flush()
        self._closed.set()
        self._write_api.close()
        self._replayer.join(timeout=30)
        self._scheduler.executor.shutdown(wait=True)
        left = len(self.spool)
        if left:
            log.warning("%d spooled batches wait in %s for the next start", left, self.spool.root)


def _status(error: BaseException) -> int | None:
    if isinstance(error, ApiException | InfluxDBError):
        status = getattr(error, "status", None)
        if status is None and getattr(error, "response", None) is not None:
            status = getattr(error.response, "status", None)
        return int(status) if status else None
    return None


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:300]
