"""Real Mosquitto and InfluxDB for the tests (and benchmarks), each on free ports under
a temporary folder; InfluxDB 1.6 sits behind the v2-write front of tests/influx_front.py.

Registered as a pytest plugin by tests/conftest.py: fixtures `mosquitto` (a fresh broker
per test) and `influxdb` (a fresh database per test on one influxd per session).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.influx_front import InfluxFront
from tests.pg import free_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
INFLUXD = shutil.which("influxd") or "/usr/bin/influxd"


def _wait_for_port(port: int, *, timeout: float, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                text = log.read_text(errors="replace") if log.exists() else ""
                raise RuntimeError(f"{proc.args[0]} did not listen on {port}:\n{text}") from None
            time.sleep(0.02)


def _terminate(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class Mosquitto:
    """A private broker with persistence, so a restart keeps sessions and queued messages."""

    def __init__(
        self, root: Path, port: int | None = None, *, anonymous: bool = True, extra_conf: str = ""
    ) -> None:
        """`extra_conf` ends the configuration: a password file, an ACL, a TLS listener."""
        self.root = root
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = root / "mosquitto.log"
        self.conf = root / "mosquitto.conf"
        # Sessions of a telemetry listener may hold hundreds of thousands of QoS 1
        # messages while it is down; the defaults (1000 queued, 20 in flight) drop or
        # throttle them.
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"allow_anonymous {'true' if anonymous else 'false'}\n"
            "user root\n"
            "persistence true\n"
            f"persistence_location {root}/\n"
            "autosave_interval 0\n"
            "max_queued_messages 1000000\n"
            "max_queued_bytes 0\n"
            "max_inflight_messages 0\n"
            f"log_dest file {self.log}\n"
            "log_type error\nlog_type warning\nlog_type notice\n" + extra_conf
        )

    def start(self) -> Mosquitto:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, timeout=10, proc=self.proc, log=self.log)
        return self

    def stop(self) -> None:
        """Graceful stop: the broker saves its sessions to disk."""
        if self.proc is not None:
            _terminate(self.proc)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Influxd:
    """Debian's influxd (1.6) with everything under `root`; `front` adds /api/v2/write."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.http_port = free_port()
        self.rpc_port = free_port()
        self.log = root / "influxd.log"
        self.conf = root / "influxd.conf"
        self.proc: subprocess.Popen[bytes] | None = None
        self.conf.write_text(
            "reporting-disabled = true\n"
            f'bind-address = "127.0.0.1:{self.rpc_port}"\n'
            f'[meta]\n  dir = "{root}/meta"\n'
            f'[data]\n  dir = "{root}/data"\n  wal-dir = "{root}/wal"\n'
            "  query-log-enabled = false\n"
            f'[http]\n  bind-address = "127.0.0.1:{self.http_port}"\n'
            "  log-enabled = false\n  max-body-size = 0\n"
            "[monitor]\n  store-enabled = false\n"
            "[subscriber]\n  enabled = false\n"
            "[continuous_queries]\n  enabled = false\n"
            '[logging]\n  level = "warn"\n'
        )

    def start(self) -> Influxd:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [INFLUXD, "-config", str(self.conf)], stdout=log, stderr=subprocess.STDOUT
            )
        _wait_for_port(self.http_port, timeout=30, proc=self.proc, log=self.log)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            _terminate(self.proc)
            self.proc = None

    def query(self, q: str, db: str = "", *, method: str = "GET") -> list[dict[str, Any]]:
        """Run InfluxQL directly on influxd; the `results` list of the answer."""
        params = urllib.parse.urlencode({"q": q, "db": db, "epoch": "ms"})
        url = f"http://127.0.0.1:{self.http_port}/query?{params}"
        request = urllib.request.Request(url, method=method)
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            results: list[dict[str, Any]] = json.loads(answer.read())["results"]
        for result in results:
            if "error" in result:
                raise RuntimeError(f"{q}: {result['error']}")
        return results


class InfluxDatabase:
    """One database on a shared influxd, reached through its own front."""

    def __init__(self, server: Influxd, name: str) -> None:
        self.server = server
        self.name = name
        self.front = InfluxFront(server.http_port, free_port())

    @property
    def url(self) -> str:
        return self.front.url

    @property
    def bucket(self) -> str:
        return f"{self.name}/autogen"

    def settings(self) -> dict[str, str]:
        """The [influxdb] settings that point smartfab at this database."""
        return {"url": self.url, "token": "test-token", "org": "smartfab", "bucket": self.bucket}

    def create(self) -> InfluxDatabase:
        self.server.query(f'CREATE DATABASE "{self.name}"', method="POST")
        self.front.start()
        return self

    def drop(self) -> None:
        self.front.stop()
        self.server.query(f'DROP DATABASE "{self.name}"', method="POST")

    def query(self, q: str) -> list[list[Any]]:
        """Rows of the first series of the first statement (empty when none)."""
        series = self.server.query(q, self.name)[0].get("series") or [{}]
        rows: list[list[Any]] = series[0].get("values") or []
        return rows

    def count(self, field: str = "*", where: str = "") -> int:
        """Number of points with `field` in measurement telemetry."""
        where_clause = f" WHERE {where}" if where else ""
        rows = self.query(f"SELECT count({field}) FROM telemetry{where_clause}")  # noqa: S608
        if not rows:
            return 0
        return int(max(value for value in rows[0][1:] if value is not None))


@contextmanager
def influxd_server(root: Path | None = None) -> Iterator[Influxd]:
    path = root or Path(tempfile.mkdtemp(prefix="smartfab-influxd-"))
    server = Influxd(path).start()
    try:
        yield server
    finally:
        server.stop()
        if root is None:
            shutil.rmtree(path, ignore_errors=True)


_names = itertools.count(1)


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influxd]:
    """One influxd for the whole run; each test gets its own database."""
    with influxd_server(tmp_path_factory.mktemp("influxd")) as server:
        yield server


@pytest.fixture
def influxdb(influxd: Influxd) -> Iterator[InfluxDatabase]:
    """A fresh database behind a fresh front (which fault tests may break)."""
    database = InfluxDatabase(influxd, f"smartfab_{os.getpid()}_{next(_names)}").create()
    try:
        yield database
    finally:
        database.drop()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A fresh broker on a free port, persistence in the test's temp folder."""
    root = tmp_path / "mosquitto"
    root.mkdir()
    with Mosquitto(root) as broker:
        yield broker
