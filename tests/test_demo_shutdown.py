"""Ctrl-C stops `smartfab demo` in order within 5 s: the devices say they stopped (no
offline alert), the scheduler stops, the listener drains and acknowledges, then the web
server, then the broker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from sqlmodel import Session, col, func, select

from devices.broker import free_port
from devices.contract import Status
from service.db import make_engine
from service.models import Alert, AlertKind, Device, UsageSession
from telemetry.derive import apply
from tests.conftest import CURRENT_TIME
from tests.factories import World

STOP_WITHIN_S = 5.0
ORDER = ("simulator", "scheduler", "listener", "web", "broker")


def _wait_serving(
    process: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 90.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"the demo exited early ({process.returncode}):\n{said}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our server
                return
        except urllib.error.HTTPError:
            return  # it answers, if not with 200
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the demo did not serve in time")


def test_ctrl_c_stops_the_demo_in_order_within_five_seconds_without_offline_alerts(
    tmp_path: Path,
):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    port = free_port()
    env = {
        **os.environ,
        "SMARTFAB_DATABASE__URL": url,
        "SMARTFAB_MQTT__HOST": "",
        "SMARTFAB_MQTT__PORT": str(free_port()),
    }
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "service.cli", "demo", "--port", str(port)],
            cwd=tmp_path,  # the embedded broker's files go under ./instance
            env={**env, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives it
        )
        try:
            _wait_serving(process, f"http://127.0.0.1:{port}/healthz", log)
            time.sleep(3)  # devices report, the scheduler makes a pass
            began = time.monotonic()
            os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does
            process.wait(timeout=30)
            took = time.monotonic() - began
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    text = log.read_text(errors="replace")
    print(f"the demo stopped {took:.2f} s after Ctrl-C")  # noqa: T201 - a figure, with -s
    print(*(line for line in text.splitlines() if " stopp" in line), sep="\n")  # noqa: T201
    assert process.returncode == 0, text[-3000:]
    assert took < STOP_WITHIN_S, text[-3000:]
    stopped = [m.group(1) for m in re.finditer(r"stopped (\w+) in [\d.]+ s", text)]
    assert stopped == list(ORDER), text[-3000:]
    assert "drained and acknowledged" in text
    assert re.search(r"demo stopped in [\d.]+ s", text)

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            devices = session.exec(select(func.count()).select_from(Device)).one()
            offline = session.exec(select(Alert).where(Alert.kind == AlertKind.offline)).all()
            online = session.exec(select(Device).where(col(Device.online).is_(True))).all()
            running = session.exec(
                select(UsageSession).where(col(UsageSession.end_at).is_(None))
            ).all()
    finally:
        engine.dispose()
    assert devices > 30
    assert offline == []  # a planned stop is no incident
    assert online == []  # and yet every device is known to be offline
    assert running == []


def _status(minutes: float, online: bool, *, planned: bool = False) -> Status:
    ts = CURRENT_TIME.replace(minute=int(minutes))
    return Status("seongsu", "laser-1", online, ts, planned=planned)


def test_a_device_that_says_it_stopped_is_offline_without_an_alert(session: Session, world: World):
    from service.rules.devices import ensure_devices

    ensure_devices(session=session, site=world.sites["seongsu"])
    session.commit()
    apply(session=session, now=CURRENT_TIME, messages=[_status(0, True)])
    apply(session=session, now=CURRENT_TIME, messages=[_status(1, False, planned=True)])
    session.commit()
    device = session.exec(select(Device).where(Device.slug == "laser-1")).one()
    assert device.online is False
    assert session.exec(select(Alert)).all() == []
    # The Last Will (offline, not said by the device) is still an incident.
    apply(session=session, now=CURRENT_TIME, messages=[_status(2, True), _status(3, False)])
    session.commit()
    kinds = [a.kind for a in session.exec(select(Alert))]
    assert kinds == [AlertKind.offline]
