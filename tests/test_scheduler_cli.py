"""`smartfab schedule` as its own process: it acts on the real clock and stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from service.models import ReservationStatus
from tests.machines import Machines, add_device, reserve


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
