"""The simulator: machines and rooms that behave plausibly and keep to the MQTT contract."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlmodel import Session, func, select

from devices.behaviour import MachineModel, RoomModel
from devices.client import make_client
from devices.contract import Command, Status, Telemetry, decode
from devices.publish import publish_command
from devices.simulator import DeviceSpec, Simulator, generated_specs
from service.models import DeadLetter, Device
from service.rules.devices import ensure_devices
from telemetry.derive import apply
from tests.conftest import ROOT
from tests.factories import World

CARDS = ["04A1B2C3", "04D5E6F7"]


def simulate(model, seconds: int, step: float = 1.0):
    """Step a model through `seconds` of its own time; the (time, Step) of every reading."""
    return [(t, model.step(t)) for t in (i * step for i in range(1, int(seconds / step)))]


@pytest.mark.parametrize(
    ("category", "low", "high"),
    [
        ("laser_cutter", 1500, 3000),
        ("3d_printer_fdm", 150, 300),
        ("sewing_machine", 300, 600),
        ("embroidery", 400, 800),
        ("cnc_router", 3000, 7000),
    ],
)
def test_machines_draw_the_power_of_their_kind_when_running(category, low, high):
    model = MachineModel(category, now=0, rng=random.Random(1), speed=10, cards=CARDS)
    steps = [s for _, s in simulate(model, 4 * 3600)]
    running = [s.metrics["power_w"] for s in steps if s.state == "running"]
    idle = [s.metrics["power_w"] for s in steps if s.state == "idle"]
    assert running and idle
    assert low <= min(running) and max(running) <= high
    assert max(idle) < low


def test_energy_is_cumulative_and_matches_the_power_drawn():
    model = MachineModel("laser_cutter", now=0, rng=random.Random(2), speed=20)
    readings = simulate(model, 3600)
    energy = [s.metrics["energy_wh"] for _, s in readings]
    assert energy == sorted(energy)
    held = sum(s.metrics["power_w"] for _, s in readings[:-1]) / 3600
    assert energy[-1] - energy[0] == pytest.approx(held, rel=0.01)


def test_every_run_starts_with_a_badge_tap_and_a_job_start():
    model = MachineModel("sewing_machine", now=0, rng=random.Random(3), speed=10, cards=CARDS)
    previous = model.state
    runs = 0
    for _, step in simulate(model, 3600):
        if step.state == "running" and previous != "running":
            runs += 1
            kinds = [kind for kind, _ in step.events]
            assert kinds[:2] == ["badge", "job"]
            assert step.events[0][1]["card"] in CARDS
        previous = step.state
    assert runs > 5


def test_machines_fault_now_and_then_and_recover():
    model = MachineModel("laser_cutter", now=0, rng=random.Random(4), speed=100)
    states = [s.state for _, s in simulate(model, 6 * 3600, step=0.5)]
    assert "fault" in states
    recovered = [b for a, b in zip(states, states[1:], strict=False) if a == "fault" and b != a]
    assert recovered and set(recovered) == {"idle"}


def test_a_disabled_machine_stops_and_starts_no_run_until_enabled():
    model = MachineModel("sewing_machine", now=0, rng=random.Random(5), speed=10)
    model.disable(0)
    assert {s.state for _, s in simulate(model, 3600)} == {"idle"}
    model.enable()
    assert "running" in {s.state for _, s in ((t, model.step(3600 + t)) for t in range(3600))}


def test_rooms_report_occupancy_and_co2_that_rises_with_people():
    model = RoomModel(now=0, rng=random.Random(6), speed=5, capacity=8)
    readings = [s for _, s in simulate(model, 6 * 3600, step=5)]
    assert all(s.state is None for s in readings)
    assert all((s.metrics["occupied"] == 1.0) == (s.metrics["people"] > 0) for s in readings)
    busy = [s.metrics["co2_ppm"] for s in readings if s.metrics["people"] >= 4]
    empty = [s.metrics["co2_ppm"] for s in readings if s.metrics["people"] == 0]
    assert busy and empty
    assert max(busy) > 900 > min(empty) >= 400
    assert any(kind == "door" for s in readings for kind, _ in s.events)


# -- over a real broker --------------------------------------------------------------------


class Collector:
    """A subscriber that keeps every message it receives, retained ones included."""

    def __init__(self, host: str, port: int, topic: str = "smartfab/#") -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"collector-{time.time()}")
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self._ready.set()
        self.client.on_message = self._keep
        self.client.connect(host, port)
        self.client.loop_start()
        assert self._ready.wait(10)

    def _keep(self, _client, _userdata, message) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload), bool(message.retain)))

    def snapshot(self) -> list[tuple[str, bytes, bool]]:
        with self._lock:
            return list(self.messages)

    def wait_for(self, predicate, timeout: float = 10.0) -> list[tuple[str, bytes, bool]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = self.snapshot()
            if predicate(seen):
                return seen
            time.sleep(0.05)
        raise AssertionError(f"not seen in {timeout} s; got {len(self.snapshot())} messages")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def collector(mosquitto) -> Iterator[Collector]:
    collector = Collector(mosquitto.host, mosquitto.port)
    yield collector
    collector.close()


def statuses(seen, device: str, site: str = "lab") -> list[bytes]:
    return [payload for topic, payload, _ in seen if topic == f"smartfab/{site}/{device}/status"]


def test_simulated_devices_go_online_report_within_the_contract_and_say_they_stopped(
    mosquitto, collector
):
    specs = generated_specs("lab", 6)
    simulator = Simulator(specs, host=mosquitto.host, port=mosquitto.port, rate=10, seed=1)
    simulator.start()
    published = simulator.run(duration=1.0)
    simulator.close()
    seen = collector.wait_for(
        lambda s: all(statuses(s, d.slug)[-1:] == [b"stopped"] for d in specs)
    )
    assert published >= 6 * 8
    now = datetime.now(UTC)
    decoded = [decode(t, p, root="smartfab", now=now) for t, p, _ in seen]
    telemetry = [m for m in decoded if isinstance(m, Telemetry)]
    assert {m.device for m in telemetry} == {d.slug for d in specs}
    assert all(m.state is None for m in telemetry if m.device.startswith("sim-room"))
    assert all(
        m.state in ("idle", "running", "fault") and "energy_wh" in m.metrics
        for m in telemetry
        if not m.device.startswith("sim-room")
    )
    # A clean stop is offline on purpose (`planned`); only the Last Will is an unplanned one.
    said = [
        (m.online, m.planned) for m in decoded if isinstance(m, Status) and m.device == "sim-001"
    ]
    assert said == [(True, False), (False, True)]


def test_a_late_subscriber_learns_each_device_is_online_from_the_retained_status(mosquitto):
    specs = [DeviceSpec("lab", "laser-1", "machine", "laser_cutter")]
    simulator = Simulator(specs, host=mosquitto.host, port=mosquitto.port, rate=5)
    # Someone already listening sees the status go out; only then does the late one come.
    early = Collector(mosquitto.host, mosquitto.port, "smartfab/+/+/status")
    simulator.start()
    try:
        early.wait_for(lambda s: bool(s))
        early.close()
        late = Collector(mosquitto.host, mosquitto.port, "smartfab/+/+/status")
        seen = late.wait_for(lambda s: bool(s))
        late.close()
    finally:
        simulator.close()
    assert seen[0] == ("smartfab/lab/laser-1/status", b"online", True)


def test_a_simulated_machine_acknowledges_commands_and_obeys_disable(mosquitto, collector):
    specs = [DeviceSpec("lab", "sewing-1", "machine", "sewing_machine")]
    simulator = Simulator(specs, host=mosquitto.host, port=mosquitto.port, rate=20, speed=50)
    simulator.start()
    server = make_client("test-server")
    server.connect(mosquitto.host, mosquitto.port)
    server.loop_start()
    runner = threading.Thread(target=simulator.run, kwargs={"duration": 10})
    runner.start()
    try:
        publish_command(
            server, "smartfab", "lab", "sewing-1", Command("c-1", "disable")
        ).wait_for_publish(5)
        collector.wait_for(lambda s: any(t.endswith("/cmd/ack") for t, _, _ in s))
        ack = next(p for t, p, _ in collector.snapshot() if t.endswith("/cmd/ack"))
        assert ack == b'{"id":"c-1","ok":true}'
        assert simulator.devices["lab/sewing-1"].model.enabled is False
    finally:
        simulator.stop()
        runner.join(10)
        simulator.close()
        server.disconnect()
        server.loop_stop()


def _simulate_command(*args: str, db_url: str = "sqlite:///:memory:") -> subprocess.Popen[bytes]:
    env = {**os.environ, "SMARTFAB_DATABASE__URL": db_url}
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", "simulate", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_a_killed_simulator_leaves_offline_behind_as_its_last_will(mosquitto, collector):
    process = _simulate_command(
        "--site", "lab", "--devices", "2", "--generate", "--rate", "5",
        "--host", mosquitto.host, "--port", str(mosquitto.port),
    )  # fmt: skip
    try:
        collector.wait_for(
            lambda s: all(statuses(s, d) == [b"online"] for d in ("sim-001", "sim-002"))
        )
        collector.wait_for(lambda s: any(t.endswith("/telemetry") for t, _, _ in s))
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        process.stdout.close()
    collector.wait_for(
        lambda s: all(statuses(s, d) == [b"online", b"offline"] for d in ("sim-001", "sim-002"))
    )


def test_simulate_plays_the_devices_registered_for_the_site(
    mosquitto, collector, db_url, session: Session, world: World
):
    ensure_devices(session=session, site=world.sites["seongsu"])
    session.commit()
    process = _simulate_command(
        "--site", "seongsu", "--rate", "4", "--duration", "1.5",
        "--host", mosquitto.host, "--port", str(mosquitto.port), db_url=db_url,
    )  # fmt: skip
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output.decode()
    seen = collector.snapshot()
    devices = {t.split("/")[2] for t, _, _ in seen}
    assert devices == {"laser-1", "cnc-1", "printer-1", "embroidery-1", "meeting-1"}
    now = datetime.now(UTC)
    messages = [decode(t, p, root="smartfab", now=now) for t, p, _ in seen]
    # Stopped cleanly: each said it stopped itself, the last word of its status.
    assert all(statuses(seen, d, site="seongsu")[-1] == b"stopped" for d in devices)
    apply(session=session, now=now, messages=messages)
    assert session.exec(select(func.count()).select_from(DeadLetter)).one() == 0
    session.expire_all()
    laser = session.exec(select(Device).where(Device.slug == "laser-1")).one()
    assert laser.last_seen is not None and laser.online is False
    assert laser.last_values["power_w"] > 0
