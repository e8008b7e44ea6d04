"""`smartfab schedule` and `smartfab run` as processes: they act on the real clock and stop
cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import requests

from service.models import ReservationStatus
from tests.machines import Machines, add_device, reserve
from tests.pg import free_port


def test_smartfab_schedule_enables_a_running_reservation_and_stops_on_sigterm(
    db_url, mosquitto, session, world
):
    laser = world.resources["laser"]
    add_device(session, laser)
    now = datetime.now(UTC)
    reserve(
        session,
        laser,
        world.id("maker"),
        now - timedelta(minutes=1),
        status=ReservationStatus.active,
        checked_in_at=now,
    )
    env = {
        **os.environ,
        "SMARTFAB_DATABASE__URL": db_url,
        "SMARTFAB_MQTT__HOST": mosquitto.host,
        "SMARTFAB_MQTT__PORT": str(mosquitto.port),
        "SMARTFAB_SCHEDULER__TICK_S": "0.5",
    }
    with Machines(mosquitto.host, mosquitto.port) as machines:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "schedule"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            received = machines.wait_for(1, timeout=15)
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=20)

    assert [r.action for r in received] == ["enable"], output.decode()
    assert process.returncode == 0, output.decode()
    assert b"scheduling as" in output


def test_smartfab_run_serves_the_web_and_enforces_slots_in_one_process(
    db_url, mosquitto, session, world
):
    laser = world.resources["laser"]
    add_device(session, laser)
    now = datetime.now(UTC)
    reserve(session, laser, world.id("maker"), now - timedelta(minutes=1))
    port = free_port()
    env = {
        **os.environ,
        "SMARTFAB_DATABASE__URL": db_url,
        "SMARTFAB_MQTT__HOST": mosquitto.host,
        "SMARTFAB_MQTT__PORT": str(mosquitto.port),
        "SMARTFAB_MQTT__CLIENT_ID": f"smartfab-run-{port}",
        # On PostgreSQL `run` is a production server: it needs its own long secret key.
        "SMARTFAB_WEB__SECRET_KEY": "k" * 40,
    }
    with Machines(mosquitto.host, mosquitto.port) as machines:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "run", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            received = machines.wait_for(1, timeout=20)
            health = _get(f"http://127.0.0.1:{port}/healthz", timeout=20)
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=60)

    assert [r.action for r in received] == ["enable"], output.decode()
    assert health == 200, output.decode()
    assert process.returncode == 0, output.decode()


def _get(url: str, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, timeout=2).status_code
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
