"""A spool on disk for line-protocol batches that InfluxDB did not take.

Each batch is one file, written to a temporary name, fsynced and renamed, so a crash
leaves either the whole batch or nothing. Files are replayed oldest first; a batch
InfluxDB refuses as malformed moves to `rejected/` and is kept, never deleted.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SUFFIX = ".lp"


class Spool:
    """Durable FIFO of line-protocol batches in `root`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.rejected_dir = self.root / "rejected"
        self.root.mkdir(parents=True, exist_ok=True)
        self._seq = itertools.count()
        self._lock = threading.Lock()
        for stale in self.root.glob("*.tmp"):
            stale.unlink(missing_ok=True)  # half-written before a crash; never acknowledged

    def put(self, data: bytes) -> Path:
        """Store one batch durably; returns its file."""
        with self._lock:
            name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._seq):08d}"
        tmp = self.root / f"{name}.tmp"
        final = self.root / f"{name}{SUFFIX}"
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.rename(final)
        self._sync_dir(self.root)
        return final

    def files(self) -> list[Path]:
        """Spooled batches, oldest first."""
        return sorted(self.root.glob(f"*{SUFFIX}"))

    def __len__(self) -> int:
        return len(self.files())

    def read(self, path: Path) -> bytes | None:
        """A batch's content; None when another process has replayed it meanwhile."""
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    @contextmanager
    def replaying(self) -> Iterator[bool]:
        """Whether this process may replay now: one at a time (listeners may share a spool)."""
        with (self.root / ".replay.lock").open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def done(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def reject(self, path: Path, reason: str) -> Path:
        """Keep a batch InfluxDB will never accept, with the reason next to it."""
        self.rejected_dir.mkdir(exist_ok=True)
        target = self.rejected_dir / path.name
        path.rename(target)
        target.with_suffix(".reason").write_text(reason + "\n", encoding="utf-8")
        self._sync_dir(self.rejected_dir)
        return target

    @staticmethod
    def _sync_dir(path: Path) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
