"""Part (b) of the booking benchmark: `smartfab web` under 16 concurrent clients.

Each client thread keeps one HTTP/1.1 connection open (http.client, so the
client's own cost stays small next to the server's), and every booking asks
for its own slot so that all of them succeed with 201.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlmodel import Session

from bench.booking_world import (
    ZONE,
    add_makers,
    add_resources,
    add_sites,
    bookings,
    insert_bookings,
)
from bench.cpu import CpuMeter, children, keep_latest
from bench.figures import percentile, verdict
from service.clock import utcnow
from service.db import make_engine
from service.migrate import upgrade
from tests import pg

CLIENTS = 16
REQUESTS = 2000
SERVER_THREADS = 8
BOOKABLE = 64
RATIO_GOAL = 0.3
P99_GOAL_MS = 150.0
PHASE_LIMIT_S = 120.0
SLOT_DAYS = 50  # within the resources' 60 bookable days
SLOTS_PER_DAY = 7
SMARTFAB = Path(sys.executable).with_name("smartfab")

# Booking hours of the load test's sites: every day 08:00-22:00, local time.
OPEN_ALL_WEEK = [[(range(7), clock_time(8), clock_time(22))]]


@dataclass
class Phase:
    """What one endpoint did under load."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    # The first answer seen for each unexpected status, to say what went wrong.
    samples: dict[int, str] = field(default_factory=dict)
    wall: float = 0.0
    finished: list[float] = field(default_factory=list)
    # CPU seconds used during the phase by the server, its PostgreSQL backends and this client.
    cpu: dict[str, float | None] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    def cpu_ms(self, who: str) -> str:
        """CPU milliseconds per request, or 'n/a' when it could not be read."""
        spent = self.cpu.get(who)
        if spent is None or not self.latencies:
            return "n/a"
        return f"{spent * 1000 / len(self.latencies):.2f}"

    def percentile_ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000 if self.latencies else float("nan")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def seed_server_db(url: str) -> tuple[list[int], list[str]]:
    """Sites open every day, bookable resources with four weeks of history, makers' tokens."""
    rng = random.Random(16)
    now = utcnow()
    engine = make_engine(url)
    try:
        upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            world = add_sites(session, OPEN_ALL_WEEK)
            add_resources(session, world, BOOKABLE, rng)
            add_makers(session, world, CLIENTS, now)
            today = now.astimezone(ZONE).date()
            rows = bookings(world, first=today - timedelta(days=28), days=28, now=now, rng=rng)
            insert_bookings(session, rows)
            session.commit()
            return [r.id or 0 for r in world.resources], world.tokens
    finally:
        engine.dispose()


def slots(resource_ids: list[int]) -> Iterator[tuple[int, datetime, datetime]]:
    """Distinct one-hour bookings from tomorrow on, on the hour and two hours apart.

    The gap leaves room for any buffer and the hour suits machines and rooms
    alike; consecutive slots go to different resources, so the 16 clients
    rarely share one.
    """
    tomorrow = utcnow().astimezone(ZONE).date() + timedelta(days=1)
    for day in range(SLOT_DAYS):
        for hour in range(8, 22, 2):
            start = datetime.combine(tomorrow + timedelta(days=day), clock_time(hour), tzinfo=ZONE)
            for resource_id in resource_ids:
                yield (
                    resource_id,
                    start.astimezone(UTC),
                    (start + timedelta(hours=1)).astimezone(UTC),
                )


def bookings_requests(
    slot_source: Iterator[tuple[int, datetime, datetime]], tokens: list[str], count: int
) -> list[Request]:
    made = []
    for index in range(count):
        resource_id, start, end = next(slot_source)
        body = {"resource_id": resource_id, "start": start.isoformat(), "end": end.isoformat()}
        made.append(
            Request(
                "POST",
                "/api/v1/reservations",
                json.dumps(body).encode(),
                {
                    "Authorization": f"Bearer {tokens[index % CLIENTS]}",
                    "Content-Type": "application/json",
                },
            )
        )
    return made


def _client(
    port: int, work: list[Request], start: threading.Barrier, phase: Phase, lock: threading.Lock
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    samples: dict[int, str] = {}
    deadline = time.monotonic() + PHASE_LIMIT_S
    start.wait()
    for request in work:
        if time.monotonic() > deadline:
            break
        began = time.perf_counter()
        try:
            connection.request(request.method, request.path, request.body, request.headers)
            response = connection.getresponse()
            answer = response.read()
            statuses[response.status] += 1
            if response.status >= 300:
                samples.setdefault(response.status, answer[:300].decode(errors="replace"))
        except (OSError, http.client.HTTPException) as exc:
            statuses[0] += 1
            samples.setdefault(0, repr(exc))
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies.append(time.perf_counter() - began)
    connection.close()
    finished = time.perf_counter()
    with lock:
        phase.finished.append(finished)
        phase.latencies.extend(latencies)
        phase.statuses.update(statuses)
        for status, text in samples.items():
            phase.samples.setdefault(status, text)


def hammer(port: int, work: list[Request], meter: CpuMeter | None = None) -> Phase:
    """Send `work` with CLIENTS threads; thread i takes requests i, i + CLIENTS, …"""
    phase = Phase()
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS + 1)
    threads = [
        threading.Thread(target=_client, args=(port, work[i::CLIENTS], start, phase, lock))
        for i in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    before = meter.snapshot() if meter else None
    backends: dict[int, float | None] = dict(before["postgres"]) if before else {}
    start.wait()
    began = time.perf_counter()
    deadline = time.monotonic() + PHASE_LIMIT_S + 30
    for thread in threads:
        while thread.is_alive() and time.monotonic() < deadline:
            thread.join(0.25)
            if meter:
                keep_latest(backends, meter.backends())
    phase.wall = max(phase.finished, default=began) - began
    if meter and before:
        after = meter.snapshot()
        keep_latest(backends, after["postgres"])
        phase.cpu = meter.spent(before, after, backends)
    return phase


@contextmanager
def web_server(url: str, workers: int, threads: int, log: Path) -> Iterator[tuple[int, int]]:
    """`smartfab web` on a free loopback port; yields (port, pid)."""
    port = pg.free_port()
    env = {**os.environ, "SMARTFAB_DATABASE__URL": url}
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                str(SMARTFAB),
                "web",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--threads",
                str(threads),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not _answers(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"smartfab web did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield port, server.pid
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def _answers(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/api/v1/ping")
        ok = connection.getresponse().status == 200
        connection.close()
        return ok
    except OSError:
        return False


def os_threads(pid: int) -> tuple[int, int]:
    """(worker processes, OS threads in all) of the server."""
    workers = children(pid) or [pid]
    return len(workers), sum(len(os.listdir(f"/proc/{p}/task")) for p in workers)


def run_once(
    admin_dsn: str,
    url: str,
    workers: int,
    threads: int,
    count: int,
    slot_source: Iterator[tuple[int, datetime, datetime]],
    tokens: list[str],
    folder: Path,
) -> tuple[Phase, Phase, tuple[int, int]]:
    """Warm up, then `count` pings and `count` bookings on one server."""
    ping = Request("GET", "/api/v1/ping")
    with web_server(url, workers, threads, folder / f"web-{threads}.log") as (port, pid):
        hammer(port, [ping] * 200)
        warm = hammer(port, bookings_requests(slot_source, tokens, 4 * CLIENTS))
        if warm.statuses.get(201, 0) != 4 * CLIENTS:
            raise RuntimeError(f"warm-up bookings failed: {dict(warm.statuses)} {warm.samples}")
        meter = CpuMeter(pid, admin_dsn, make_url(url).database or "")
        try:
            trivial = hammer(port, [ping] * count, meter)
            creation = hammer(port, bookings_requests(slot_source, tokens, count), meter)
        finally:
            meter.close()
        seen = os_threads(pid)
    return trivial, creation, seen


def _cpu_ratio(trivial: Phase, creation: Phase) -> float | None:
    def per_request(phase: Phase) -> float | None:
        spent = phase.cpu.values()
        if not phase.latencies or any(s is None for s in spent):
            return None
        return sum(s or 0.0 for s in spent) / len(phase.latencies)

    ping, booking = per_request(trivial), per_request(creation)
    return ping / booking if ping is not None and booking else None


def report(
    threads: int, seen: tuple[int, int], trivial: Phase, creation: Phase, count: int
) -> bool:
    """Print one server's figures against the goals; True when every goal is met."""
    print(
        f"\n(b) smartfab web: {seen[0]} worker processes x {threads} threads "
        f"({seen[1]} OS threads in all), "
        f"{CLIENTS} keep-alive clients, PostgreSQL"
    )
    print(
        f"  {'endpoint':<28}{'sent':>6}{'ok':>7}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"   CPU ms per request: {'server':>7}{'postgres':>9}{'client':>8}"
    )
    for name, phase, ok in (
        ("GET /api/v1/ping", trivial, 200),
        ("POST /api/v1/reservations", creation, 201),
    ):
        print(
            f"  {name:<28}{len(phase.latencies):>6}{phase.statuses.get(ok, 0):>7}"
            f"{phase.rate:>9.0f}{phase.percentile_ms(50):>9.1f}{phase.percentile_ms(99):>9.1f}"
            f"{'':>23}{phase.cpu_ms('server'):>7}{phase.cpu_ms('postgres'):>9}"
            f"{phase.cpu_ms('client'):>8}"
        )
    others = {
        k: v for k, v in (trivial.statuses + creation.statuses).items() if k not in (200, 201)
    }
    if others:
        print(f"  unexpected statuses: {others}")
        for status, text in {**trivial.samples, **creation.samples}.items():
            print(f"    {status}: {text}")
    ratio = creation.rate / trivial.rate if trivial.rate else 0.0
    cpu_ratio = _cpu_ratio(trivial, creation)
    if cpu_ratio is not None:
        print(
            f"  CPU per ping / CPU per booking, all three processes: {cpu_ratio:.2f} "
            "(when CPU is what limits, the throughput ratio tends to this)"
        )
    all_booked = creation.statuses.get(201, 0) == count
    p99 = creation.percentile_ms(99)
    print(f"  {'goal':<44}{'measured':>10}  {'target':<10}")
    for goal, measured, target, ok in (
        ("creation/trivial throughput", f"{ratio:.2f}", f">= {RATIO_GOAL}", ratio >= RATIO_GOAL),
        ("creation p99 latency", f"{p99:.0f} ms", f"< {P99_GOAL_MS:.0f} ms", p99 < P99_GOAL_MS),
        ("bookings answered 201", f"{creation.statuses.get(201, 0)}", f"= {count}", all_booked),
    ):
        print(f"  {goal:<44}{measured:>10}  {target:<10}{verdict(ok)}")
    return ratio >= RATIO_GOAL and p99 < P99_GOAL_MS and all_booked
