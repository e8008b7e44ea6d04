"""A fleet of simulated devices: each its own MQTT connection, Last Will and behaviour.

Every device announces a retained `online`, reports telemetry `rate` times a second,
sends badge/door/job events as they happen, answers commands with a `cmd/ack`, and
leaves `offline` behind as its Last Will. Stopped cleanly, it publishes a retained
`stopped` itself: offline, but on purpose, which raises no alert.

Given `scripts` (visits by "site/device"), a machine follows the day's plan
(devices.behaviour.ScriptedMachine): off until an `enable`, run only by whoever is there.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt

from .behaviour import MachineModel, RoomModel, ScriptedMachine, ScriptedRoom, Visit
from .client import make_client
from .contract import InvalidMessage, decode_command, topic_for
from .publish import publish_ack, publish_event, publish_status, publish_telemetry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeviceSpec:
    """A device to simulate: where it publishes and what it is."""

    site: str
    slug: str
    kind: str = "machine"  # or "room"
    category: str = ""
    capacity: int = 8


def generated_specs(site: str, count: int, rng: random.Random | None = None) -> list[DeviceSpec]:
    """`count` devices for a site the database does not know: mostly machines, some rooms."""
    rng = rng or random.Random(0)  # noqa: S311 - simulation, not security
    categories = ["laser_cutter", "3d_printer_fdm", "sewing_machine", "embroidery", "cnc_router"]
    specs = []
    for number in range(1, count + 1):
        if number % 6 == 0:
            specs.append(DeviceSpec(site, f"sim-room-{number:03d}", "room", "meeting_room"))
        else:
            category = categories[(number - 1) % len(categories)]
            specs.append(DeviceSpec(site, f"sim-{number:03d}", "machine", category))
    return specs


def device_key(spec: DeviceSpec) -> str:
    """How the simulator and its scripts name a device: slugs repeat across sites."""
    return f"{spec.site}/{spec.slug}"


@dataclass
class _Device:
    spec: DeviceSpec
    client: mqtt.Client
    model: MachineModel | RoomModel
    due: float
    connected: threading.Event = field(default_factory=threading.Event)


class Simulator:
    """Run with start(), then run() until a duration passes or stop() is called."""

    def __init__(
        self,
        specs: Sequence[DeviceSpec],
        *,
        host: str,
        port: int,
        root: str = "smartfab",
        rate: float = 1.0,
        speed: float = 1.0,
        cards: Sequence[str] = (),
        seed: int | None = None,
        username: str = "",
        password: str = "",
        credentials: Mapping[str, tuple[str, str]] | None = None,
        tls: bool = False,
        ca_file: str = "",
        cert_file: str = "",
        key_file: str = "",
        clock: Callable[[], float] = time.time,
        scripts: Mapping[str, Sequence[Visit]] | None = None,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.host, self.port, self.root, self.rate = host, port, root, rate
        self.clock = clock
        self.published = 0
        self._stop = threading.Event()
        self._commands: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
        rng = random.Random(seed)  # noqa: S311 - simulation, not security
        now = clock()
        self.devices: dict[str, _Device] = {}  # by device_key
        for index, spec in enumerate(specs):
            device_rng = random.Random(rng.getrandbits(64))  # noqa: S311
            model: MachineModel | RoomModel
            key = device_key(spec)
            if spec.kind == "room" and scripts is not None:
                model = ScriptedRoom(
                    scripts.get(key, ()),
                    now=now,
                    rng=device_rng,
                    speed=speed,
                    capacity=spec.capacity,
                )
            elif spec.kind == "room":
                model = RoomModel(now=now, rng=device_rng, speed=speed, capacity=spec.capacity)
            elif scripts is not None:
                visits = scripts.get(key, ())
                model = ScriptedMachine(spec.category, visits, now=now, rng=device_rng, speed=speed)
            else:
                model = MachineModel(
                    spec.category, now=now, rng=device_rng, speed=speed, cards=cards
                )
            # Each device its own account when given (by device_key), else the shared one.
            user, secret = (credentials or {}).get(key, (username, password))
            client = make_client(
                f"sim-{spec.site}-{spec.slug}"[:64],
                username=user,
                password=secret,
                tls=tls,
                ca_file=ca_file,
                cert_file=cert_file,
                key_file=key_file,
                will=(spec.site, spec.slug),
                root=root,
            )
            # Spread the fleet over one period so reports do not come in bursts.
            due = now + (index / max(1, len(specs))) / rate
            self.devices[key] = _Device(spec, client, model, due)

    # -- connection -----------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        """Connect every device and announce it online; raises if the broker does not answer."""
        for device in self.devices.values():
            client = device.client
            client.on_connect = self._on_connect(device)
            client.on_message = self._on_message(device)
            client.connect_async(self.host, self.port, keepalive=30)
            client.loop_start()
        deadline = time.monotonic() + timeout
        for device in self.devices.values():
            if not device.connected.wait(max(0.0, deadline - time.monotonic())):
                self.close(graceful=False)
                raise ConnectionError(f"MQTT broker {self.host}:{self.port} did not answer")
        log.info("simulating %d devices on %s:%d", len(self.devices), self.host, self.port)

    def _on_connect(self, device: _Device) -> Callable[..., None]:
        spec = device.spec

        def on_connect(client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            if reason.is_failure:
                log.warning("%s/%s: connection refused: %s", spec.site, spec.slug, reason)
                return
            client.subscribe(topic_for(self.root, spec.site, spec.slug, "cmd"), qos=1)
            publish_status(client, self.root, spec.site, spec.slug, True)
            device.connected.set()

        return on_connect

    def _on_message(self, device: _Device) -> Callable[..., None]:
        def on_message(_client: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
            # Runs on the client's network thread: hand over, the run loop acts on it.
            self._commands.put((device_key(device.spec), bytes(message.payload)))

        return on_message

    # -- running --------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask run() to return (from another thread or a signal handler)."""
        self._stop.set()

    def run(self, duration: float | None = None) -> int:
        """Publish until `duration` seconds pass or stop(); returns the messages published."""
        ends = None if duration is None else self.clock() + duration
        while not self._stop.is_set():
            now = self.clock()
            if ends is not None and now >= ends:
                break
            self._handle_commands(now)
            next_due = now + 1.0
            for device in self.devices.values():
                if device.due <= now:
                    self._report(device, now)
                    device.due = max(device.due + 1 / self.rate, now)
                next_due = min(next_due, device.due)
            self._stop.wait(max(0.0, min(next_due - self.clock(), 0.5)))
        return self.published

    def _report(self, device: _Device, now: float) -> None:
        spec, client = device.spec, device.client
        step = device.model.step(now)
        ts = datetime.fromtimestamp(now, UTC)
        for kind, data in step.events:
            publish_event(client, self.root, spec.site, spec.slug, kind, ts=ts, **data)
            self.published += 1
        publish_telemetry(
            client, self.root, spec.site, spec.slug, ts=ts, state=step.state, metrics=step.metrics
        )
        self.published += 1

    def _handle_commands(self, now: float) -> None:
        while True:
            try:
                key, payload = self._commands.get_nowait()
            except queue.Empty:
                return
            device = self.devices[key]
            spec = device.spec
            try:
                command = decode_command(payload)
            except InvalidMessage as exc:
                log.warning("%s/%s: command refused: %s", spec.site, spec.slug, exc)
                continue
            model = device.model
            ok = True
            if isinstance(model, MachineModel):
                if command.action == "disable":
                    model.disable(now)
                elif command.action == "enable":
                    until = command.until.timestamp() if command.until is not None else None
                    model.enable(now, until)
            else:
                ok = command.action in ("warn", "deny")
            publish_ack(device.client, self.root, spec.site, spec.slug, command.id, ok)
            self.published += 1

    # -- shutdown -------------------------------------------------------------------------

    def close(self, *, graceful: bool = True, timeout: float = 5.0) -> None:
        """Disconnect; a graceful close publishes `stopped` itself and waits for the sends."""
        infos = []
        for device in self.devices.values():
            spec = device.spec
            if graceful and device.connected.is_set():
                infos.append(
                    publish_status(
                        device.client, self.root, spec.site, spec.slug, False, planned=True
                    )
                )
        deadline = time.monotonic() + timeout
        for info in infos:
            try:
                info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            except (RuntimeError, ValueError):
                pass  # not connected any more: the Last Will says offline instead
        for device in self.devices.values():
            device.client.disconnect()
            device.client.loop_stop()
