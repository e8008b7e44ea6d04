"""CPU seconds from /proc, for the server, its PostgreSQL backends and the client."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import psycopg


class CpuMeter:
    """CPU time from /proc: the server (with its worker processes), the database's
    backends and this client.

    Backends are looked up again while a phase runs, so that one the pool
    closes before the phase ends (an overflow connection) still counts.
    """

    def __init__(self, server_pid: int, admin_dsn: str, database: str) -> None:
        self.server_pid = server_pid
        self.database = database
        self.connection = psycopg.connect(admin_dsn, autocommit=True)

    def close(self) -> None:
        self.connection.close()

    def backends(self) -> dict[int, float | None]:
        rows = self.connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,)
        )
        return {pid: cpu_seconds(pid) for (pid,) in rows}

    def snapshot(self) -> dict[str, Any]:
        return {
            "server": tree_cpu_seconds(self.server_pid),
            "postgres": self.backends(),
            "client": time.process_time(),
        }

    @staticmethod
    def spent(
        before: dict[str, Any], after: dict[str, Any], backends: dict[int, float | None]
    ) -> dict[str, float | None]:
        """CPU seconds between two snapshots; `backends` holds the latest reading of each."""
        readable = {pid: s for pid, s in backends.items() if s is not None}
        return {
            "server": after["server"] - before["server"],
            # A backend that started during the phase spent all its time in it.
            "postgres": sum(s - (before["postgres"].get(pid) or 0.0) for pid, s in readable.items())
            if readable
            else None,
            "client": after["client"] - before["client"],
        }


def cpu_seconds(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the command name: state is field 3, utime 14 and stime 15.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds of a process and its living children (gunicorn's workers)."""
    own = cpu_seconds(pid)
    if own is None:
        return None
    return own + sum(cpu_seconds(child) or 0.0 for child in children(pid))


def keep_latest(backends: dict[int, float | None], seen: dict[int, float | None]) -> None:
    # A backend may exit between the lookup and the read: keep its last reading.
    backends.update({pid: cpu for pid, cpu in seen.items() if cpu is not None})
