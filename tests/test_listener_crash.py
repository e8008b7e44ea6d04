"""`smartfab listen` killed with SIGKILL mid-stream loses nothing once restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from service.config import Settings
from service.models import DeadLetter, Device
from tests.publish import Publisher, in_thread, telemetry, wait_for
from tests.services import Mosquitto

ROOT = Path(__file__).resolve().parent.parent
SMARTFAB = str(Path(sys.executable).parent / "smartfab")
N = 20_000


def environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTFAB_")}
    env["SMARTFAB_CONFIG"] = str(ROOT / "config.toml")
    for section in ("database", "mqtt", "influxdb"):
        for key, value in getattr(settings, section).model_dump().items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            env[f"SMARTFAB_{section.upper()}__{key.upper()}"] = text
    return env


class ListenProcess:
    def __init__(self, settings: Settings, log: Path) -> None:
        self.env, self.log = environment(settings), log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [SMARTFAB, "listen"], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        wait_for(lambda: b"session" in self.log.read_bytes()[offset:], timeout=30, step=0.1)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return int(self.proc.returncode)


@pytest.fixture
def listen(ingest_settings: Settings, devices: object, tmp_path: Path) -> Iterator[ListenProcess]:
    process = ListenProcess(ingest_settings, tmp_path / "listen.log")
    yield process
    if process.proc is not None and process.proc.poll() is None:
        process.proc.kill()
        process.proc.wait(timeout=10)


@pytest.mark.parametrize(
    ("db_url", "store_kind"), [("sqlite", "influx"), ("postgresql", "sql")], indirect=True
)
def test_sigkill_in_the_middle_of_the_stream_loses_no_message(
    listen: ListenProcess,
    mosquitto: Mosquitto,
    devices: list[tuple[str, str]],
    stored: Callable[[], int],
    engine: Engine,
) -> None:
    listen.start()
    publisher = Publisher(mosquitto.host, mosquitto.port)
    start = datetime.now(UTC) - timedelta(minutes=2)
    sending = in_thread(lambda: publisher.publish(telemetry(devices, N, start=start)))
    wait_for(lambda: stored() >= 3000, timeout=60, step=0.1)
    listen.kill()
    halfway = stored()
    assert halfway < N, "the listener finished before it could be killed"
    sending.join(timeout=120)
    publisher.close()
    listen.start()
    wait_for(lambda: stored() == N, timeout=90, step=0.2)
    assert listen.terminate() == 0
    assert b"stopped" in listen.log.read_bytes()
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(DeadLetter)).one() == 0
        last = session.exec(select(func.max(Device.last_ts))).one()
    # Derived state moved on to the very last sample, too.
    assert last is not None
    assert abs(last - (start + timedelta(milliseconds=N - 1))) < timedelta(milliseconds=1)
