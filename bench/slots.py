"""Slot enforcement and badge benchmark, on a real Mosquitto and the real clock.

1. 1,000 reservations end at the same minute: time from that boundary to the last
   `disable` received by the simulated machines (goal: all within 2 s).
2. Badge taps at 50 per second: time from a tap's publish to its answer on the
   machine's `cmd` topic, p50 and p99 (goal: p99 < 100 ms).

Runs on SQLite, and on PostgreSQL when a server answers. Prints its figures.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import ms, percentile, verdict  # noqa: E402
from devices.contract import encode_ack, encode_event, topic_for  # noqa: E402
from service.db import make_engine  # noqa: E402
from service.migrate import upgrade  # noqa: E402
from service.models import (  # noqa: E402
    Account,
    Device,
    OpeningHours,
    Reservation,
    ReservationStatus,
    Resource,
    ResourceKind,
    Site,
)
from tests import pg  # noqa: E402
from tests.services import Mosquitto  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MACHINES = 1000
BADGE_MACHINES = 200
TAPS_PER_S = 50
TAP_SECONDS = 10
GOAL_BOUNDARY_S = 2.0
GOAL_P99_MS = 100.0


class Devices:
    """One client for every simulated machine: records commands, acknowledges each."""

    def __init__(self, broker: Mosquitto) -> None:
        self.lock = threading.Lock()
        self.arrivals: dict[str, list[tuple[str, float]]] = defaultdict(list)
        self.ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_connect = lambda c, *_: c.subscribe("smartfab/+/+/cmd", qos=1)
        self.client.on_subscribe = lambda *_: self.ready.set()
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.ready.wait(10)

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        at = time.time()
        _, site, device, _ = msg.topic.split("/", 3)
        body = json.loads(msg.payload)
        with self.lock:
            self.arrivals[body["action"]].append((device, at))
        client.publish(topic_for("smartfab", site, device, "cmd/ack"), encode_ack(body["id"], True))

    def count(self, action: str) -> int:
        with self.lock:
            return len(self.arrivals[action])

    def wait(self, action: str, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.count(action) < count and time.monotonic() < deadline:
            time.sleep(0.005)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def seed(engine: Engine, boundary: datetime) -> dict[str, str]:
    """A site open round the clock with 1,200 machines: 1,000 whose reservations end at
    `boundary`, 200 booked for the next hours by card holders. Returns card → device."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        site = Site(slug="seongsu", name="성수 광역센터", timezone="Asia/Seoul")
        session.add(site)
        session.flush()
        for weekday in range(7):
            session.add(
                OpeningHours(site_id=site.id or 0, weekday=weekday, opens=dtime(0), closes=dtime(0))
            )
        owner = Account(email="owner@example.com", name="owner")
        session.add(owner)
        session.flush()
        cards: dict[str, str] = {}
        for n in range(MACHINES + BADGE_MACHINES):
            resource = Resource(
                site_id=site.id or 0,
                kind=ResourceKind.machine,
                slug=f"m-{n}",
                name=f"machine {n}",
                walk_in_allowed=True,
            )
            session.add(resource)
            session.flush()
            session.add(Device(site_id=site.id or 0, resource_id=resource.id, slug=resource.slug))
            account_id = owner.id or 0
            start, end = boundary - timedelta(minutes=30), boundary
            if n >= MACHINES:
                card = f"{n:08X}"
                holder = Account(email=f"maker{n}@example.com", name=f"maker {n}", card_uid=card)
                session.add(holder)
                session.flush()
                account_id = holder.id or 0
                start, end = now - timedelta(minutes=10), now + timedelta(hours=2)
                cards[card] = resource.slug
            session.add(
                Reservation(
                    resource_id=resource.id or 0,
                    account_id=account_id,
                    created_by_id=account_id,
                    start_at=start,
                    end_at=end,
                    blocked_until=end,
                    status=(
                        ReservationStatus.active if n < MACHINES else ReservationStatus.confirmed
                    ),
                    checked_in_at=start if n < MACHINES else None,
                    created_at=now,
                    updated_at=now,
                )
            )
        session.commit()
    return cards


def slot_boundary(broker: Mosquitto, url: str) -> tuple[float, list[float]]:
    """Run `smartfab schedule` as its own process, as in production, against `url`."""
    engine = make_engine(url)
    upgrade(engine)
    # The next whole minute at least 25 s away: time to seed and send the enables first.
    boundary = (datetime.now(UTC) + timedelta(seconds=85)).replace(second=0, microsecond=0)
    cards = seed(engine, boundary)
    engine.dispose()
    env = {
        **os.environ,
        "SMARTFAB_DATABASE__URL": url,
        "SMARTFAB_MQTT__HOST": broker.host,
        "SMARTFAB_MQTT__PORT": str(broker.port),
        "SMARTFAB_SCHEDULER__NO_SHOW_AFTER_MIN": "60",
    }
    devices = Devices(broker)
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "schedule"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        devices.wait("enable", MACHINES + BADGE_MACHINES, timeout=60)
        wait = (boundary - datetime.now(UTC)).total_seconds()
        print(f"  {devices.count('enable')} machines enabled; boundary in {wait:.1f} s")
        devices.wait("disable", MACHINES, timeout=max(wait, 0) + 30)
        edge = boundary.timestamp()
        disables = [at - edge for _, at in devices.arrivals["disable"]]
        time.sleep(3)  # let the acks of the boundary settle: taps are measured on their own
        latencies = badge_taps(broker, devices, cards)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        devices.close()
    return max(disables) if len(disables) >= MACHINES else float("inf"), latencies


def badge_taps(broker: Mosquitto, devices: Devices, cards: dict[str, str]) -> list[float]:
    """Tap at 50/s: four in five by the machine's booker, one in five by an unknown card."""
    tapper = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    tapper.connect(broker.host, broker.port)
    tapper.loop_start()
    pairs = list(cards.items())
    taps: list[tuple[str, float]] = []
    base = {a: devices.count(a) for a in ("enable", "deny")}
    started = time.perf_counter()
    for n in range(TAPS_PER_S * TAP_SECONDS):
        card, device = pairs[n % len(pairs)]
        if n % 5 == 4:
            card = f"FF{n:06X}"
        due = started + n / TAPS_PER_S
        time.sleep(max(0.0, due - time.perf_counter()))
        taps.append((device, time.time()))
        tapper.publish(
            topic_for("smartfab", "seongsu", device, "event"),
            encode_event(None, "badge", card=card),
            qos=1,
        )
    time.sleep(2)
    tapper.disconnect()
    tapper.loop_stop()
    answers: dict[str, list[float]] = defaultdict(list)
    with devices.lock:
        for action in ("enable", "deny"):
            for device, at in devices.arrivals[action][base[action] :]:
                answers[device].append(at)
    latencies = []
    tapped: dict[str, list[float]] = defaultdict(list)
    for device, at in taps:
        tapped[device].append(at)
    for device, times in tapped.items():
        got = sorted(answers[device])
        latencies += [a - t for t, a in zip(times, got, strict=False)]
        latencies += [float("inf")] * (len(times) - len(got))
    return latencies


def run(label: str, url: str, broker: Mosquitto) -> None:
    print(f"{label}:")
    last, latencies = slot_boundary(broker, url)
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    print(
        f"  {MACHINES} reservations ending at one minute: last disable "
        f"{ms(last):8.0f} ms after the boundary   goal < {GOAL_BOUNDARY_S * 1000:.0f} ms  "
        f"{verdict(last < GOAL_BOUNDARY_S)}"
    )
    print(
        f"  badge at {TAPS_PER_S} taps/s ({len(latencies)} taps): p50 {ms(p50):6.1f} ms  "
        f"p99 {ms(p99):6.1f} ms   goal p99 < {GOAL_P99_MS:.0f} ms  "
        f"{verdict(ms(p99) < GOAL_P99_MS)}"
    )


def main() -> None:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="smartfab-bench-")))
        (tmp / "mosquitto").mkdir()
        broker = stack.enter_context(Mosquitto(tmp / "mosquitto"))
        run("SQLite", f"sqlite:///{tmp}/slots.db", broker)
        if pg.answers(pg.LOCAL):
            admin = stack.enter_context(pg.server())
            url = stack.enter_context(pg.database(admin, "smartfab_bench_slots"))
            run("PostgreSQL", url, broker)
        else:
            print("PostgreSQL: no server answers; skipped")


if __name__ == "__main__":
    main()
