"""Live floor benchmark: MQTT message → the operator's floor (SSE), and 50 open floors.

A real `smartfab web` (gunicorn, gevent workers), `smartfab listen` and Mosquitto, on a
SQLite database in a temporary folder:

1. Open floors beside normal traffic: the p50/p95 of a logged-in page request
   (GET /resources?site=, 24 machines) with no floor open, then with 50 floors streaming at once.
2. Latency: 500 simulated devices of another site publish 1,000 messages/s in the
   background; a probe machine of the watched site publishes a new power reading
   every half second; the clock runs from its publish to the SSE event that carries
   its tile with that reading. Goal: p95 under 1 s. Printed beside the listener's
   own batch interval (it waits that long for more messages before a batch).

`--quick` runs a short version; `--rate 0` measures the path without background load;
`--influx` gives the listener InfluxDB (as in production) instead of the embedded SQL store.
Always exits 0.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.figures import ms, percentile, verdict  # noqa: E402
from bench.ingest import listener_env, start_listener, stop, worker_stats  # noqa: E402
from bench.ingest_publish import messages  # noqa: E402
from devices.client import make_client  # noqa: E402
from devices.contract import encode_telemetry, topic_for  # noqa: E402

SITE = "seongsu"
LOAD_SITE = "load"
OPERATOR = "operator@bench.example"
GOAL_P95_S = 1.0
STREAMS = 50
SMARTFAB = str(Path(sys.executable).parent / "smartfab")


# -- the world -------------------------------------------------------------------------------


def prepare(url: str, n_devices: int, machines: int) -> tuple[list[tuple[str, str]], int]:
    """The watched site with `machines` machines (the first is the probe), and a site of
    `n_devices` machines for the background load; returns the load devices, the probe's id."""
    from sqlmodel import Session

    from service.db import make_engine
    from service.migrate import upgrade
    from service.models import RoleName
    from service.rules.devices import ensure_devices
    from tests.factories import make_account, make_resource, make_site

    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        site = make_site(session, SITE, name="성수 스마트앵커", timezone="Asia/Seoul")
        probe = make_resource(session, site, "probe-1")
        for i in range(1, machines):
            make_resource(session, site, f"machine-{i:02d}")
        load = make_site(session, LOAD_SITE, name="부하", timezone="Asia/Seoul")
        for i in range(n_devices):
            make_resource(session, load, f"load-{i:03d}")
        session.flush()
        ensure_devices(session=session, site=site)
        devices = [(LOAD_SITE, d.slug) for d in ensure_devices(session=session, site=load)]
        make_account(session, OPERATOR, RoleName.operator, site, locale="en")
        probe_id = probe.id or 0
        session.commit()
    engine.dispose()
    return devices, probe_id


# -- the web server --------------------------------------------------------------------------


def start_web(env: dict, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [SMARTFAB, "web", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"smartfab web did not start:\n{log.read_text()[-3000:]}")


def logged_in(base: str) -> requests.Session:
    from tests.factories import PASSWORD

    browser = requests.Session()
    page = browser.get(f"{base}/login", timeout=10).text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    answer = browser.post(
        f"{base}/login",
        data={"email": OPERATOR, "password": PASSWORD, "csrf_token": found.group(1)},
        timeout=10,
    )
    assert answer.ok, answer.status_code
    return browser


class Floor(threading.Thread):
    """One open floor: reads the stream's events; `on_event(name, data, at)` for each.

    A plain socket, not requests: closing a response another thread is reading waits for
    that read to return, while shutting the socket down ends the read at once.
    """

    def __init__(self, base: str, cookies: dict, on_event=None) -> None:
        super().__init__(daemon=True)
        self.address = urlsplit(base)
        self.path = f"/ops/floor/stream?site={SITE}"
        self.cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.on_event = on_event
        self.first = threading.Event()
        self.connection: http.client.HTTPConnection | None = None

    def run(self) -> None:
        self.connection = http.client.HTTPConnection(
            self.address.hostname, self.address.port, timeout=60
        )
        try:
            self.connection.request("GET", self.path, headers={"Cookie": self.cookie})
            response = self.connection.getresponse()
            buffer = b""
            while chunk := response.read1(65536):
                buffer += chunk
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    self._block(block.decode())
        except (OSError, http.client.HTTPException, ValueError, AttributeError):
            pass  # closed by the benchmark

    def _block(self, block: str) -> None:
        lines = block.splitlines()
        names = [line[7:] for line in lines if line.startswith("event: ")]
        if not names:
            return
        self.first.set()
        if self.on_event is not None:
            data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
            self.on_event(names[0], data, time.monotonic())

    def close(self) -> None:
        connection = self.connection
        if connection is not None and connection.sock is not None:
            try:
                connection.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()


def page_latencies(browser: requests.Session, base: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        began = time.perf_counter()
        answer = browser.get(f"{base}/resources?site={SITE}", timeout=30)
        times.append(time.perf_counter() - began)
        assert answer.ok
    return times


def open_floors_phase(base: str, browser: requests.Session, n: int) -> None:
    page_latencies(browser, base, 10)  # warm up
    alone = page_latencies(browser, base, n)
    print(f"  {n} page requests with no floor open: {sum(alone):.1f} s")
    floors = [Floor(base, browser.cookies.get_dict()) for _ in range(STREAMS)]
    began = time.monotonic()
    for floor in floors:
        floor.start()
    deadline = began + 60
    opened = sum(floor.first.wait(max(0.0, deadline - time.monotonic())) for floor in floors)
    print(f"  {opened} floors streaming after {time.monotonic() - began:.1f} s")
    beside = page_latencies(browser, base, n)
    still = sum(floor.is_alive() for floor in floors)
    for floor in floors:
        floor.close()
    for floor in floors:
        floor.join(5)
    print(f"open floors: {opened} of {STREAMS} streaming (still open after: {still})")
    for label, times in (("0 open floors", alone), (f"{STREAMS} open floors", beside)):
        print(
            f"  GET /resources?site= beside {label:<16} p50 {ms(percentile(times, 50)):6.1f} ms"
            f"  p95 {ms(percentile(times, 95)):6.1f} ms  ({len(times)} requests)"
        )


# -- the background load and the probe -------------------------------------------------------


def load_publisher(host: str, port: int, devices: list, rate: int, seconds: float) -> None:
    """Publish `rate` messages per second, paced in 10 ms steps, for `seconds`."""
    client = make_client("bench-floor-load")
    client.max_inflight_messages_set(1000)
    client.connect(host, port, keepalive=60)
    client.loop_start()
    total = int(rate * seconds)
    began = time.monotonic()
    start = datetime.now(UTC)
    for i, (topic, payload) in enumerate(messages(devices, total, start, 0, 1, "smartfab")):
        due = began + i / rate
        wait = due - time.monotonic()
        if wait > 0.01:
            time.sleep(wait)
        client.publish(topic, payload, qos=1)
    client.disconnect()
    client.loop_stop()


def latency_phase(
    base: str,
    browser: requests.Session,
    broker,
    devices: list,
    probe_id: int,
    probes: int,
    rate: int,
) -> list[float]:
    published: dict[int, float] = {}
    latencies: dict[int, float] = {}
    power = re.compile(r"([\d,]+) W<")

    def on_event(name: str, data: str, at: float) -> None:
        if name != f"tile-{probe_id}":
            return
        found = power.search(data)
        if found:
            # A newer reading shown supersedes the older ones (one listener batch may
            # carry two probes): each probe counts as shown with the first reading >= it.
            shown = int(found.group(1).replace(",", "")) - 10_000
            for k, sent in list(published.items()):
                if k <= shown and k not in latencies:
                    latencies[k] = at - sent

    floor = Floor(base, browser.cookies.get_dict(), on_event)
    floor.start()
    floor.first.wait(30)
    seconds = probes * 0.5 + 5
    load = multiprocessing.get_context("spawn").Process(
        target=load_publisher, args=(broker.host, broker.port, devices, rate, seconds)
    )
    if rate:
        load.start()
    time.sleep(2)  # the load runs at its pace before the first probe
    client = make_client("bench-floor-probe")
    client.connect(broker.host, broker.port, keepalive=60)
    client.loop_start()
    topic = topic_for("smartfab", SITE, "probe-1", "telemetry")
    for k in range(1, probes + 1):
        payload = encode_telemetry(datetime.now(UTC), "running", {"power_w": 10_000 + k})
        published[k] = time.monotonic()
        client.publish(topic, payload, qos=1).wait_for_publish(5)
        time.sleep(0.5)
    time.sleep(3)
    client.disconnect()
    client.loop_stop()
    if rate:
        load.join(timeout=seconds + 30)
    floor.close()
    missed = probes - len(latencies)
    print(f"probes: {probes} published, {len(latencies)} seen on the floor, {missed} missed")
    return list(latencies.values())


def main(quick: bool, rate: int, influx: bool) -> None:
    from telemetry.listener import LINGER_S
    from tests.pg import free_port
    from tests.services import InfluxDatabase, Mosquitto, influxd_server

    n_devices, probes, requests_n = (500, 20, 100) if quick else (500, 100, 300)
    root = Path(tempfile.mkdtemp(prefix="smartfab-bench-floor-"))
    try:
        with ExitStack() as stack:
            (root / "mosquitto").mkdir()
            broker = stack.enter_context(Mosquitto(root / "mosquitto"))
            db_url = f"sqlite:///{root}/smartfab.db"
            devices, probe_id = prepare(db_url, n_devices, machines=24)
            store: dict[str, str] = {"url": ""}
            if influx:
                (root / "influxd").mkdir()
                server = stack.enter_context(influxd_server(root / "influxd"))
                database = InfluxDatabase(server, "bench").create()
                stack.callback(database.front.stop)
                store = database.settings()
            env = listener_env(db_url, broker.host, broker.port, store, root / "spool")
            listener = start_listener(env, root / "listen.log")
            port = free_port()
            web = start_web({**env, "SMARTFAB_WEB__SECRET_KEY": "bench"}, port, root / "web.log")
            stack.callback(stop, web)
            base = f"http://127.0.0.1:{port}"
            browser = logged_in(base)
            print(
                f"smartfab web: 1 gevent worker; listener batch interval {ms(LINGER_S):.0f} ms; "
                f"telemetry store: {'InfluxDB' if influx else 'embedded SQL (SQLite)'}"
            )
            open_floors_phase(base, browser, requests_n)
            latencies = latency_phase(base, browser, broker, devices, probe_id, probes, rate)
            stop(listener)
            print(f"listener: {worker_stats(root / 'listen.log')}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if not latencies:
        print("no probe reached the floor")
        return
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    print(
        f"MQTT publish → floor SSE event at {rate:,} msg/s from {n_devices} devices: "
        f"p50 {ms(p50):.0f} ms, p95 {ms(p95):.0f} ms, max {ms(max(latencies)):.0f} ms "
        f"(goal p95 < {ms(GOAL_P95_S):.0f} ms) {verdict(p95 < GOAL_P95_S)}"
    )
    print(
        f"  beside: listener batch interval (linger) {ms(LINGER_S):.0f} ms, "
        f"floor poll {ms(_poll()):.0f} ms"
    )


def _poll() -> float:
    from service.pages.floor import POLL_SECONDS

    return POLL_SECONDS


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer probes and requests")
    parser.add_argument("--rate", type=int, default=1000, help="background msg/s (0: none)")
    parser.add_argument("--influx", action="store_true", help="the listener writes to InfluxDB")
    args = parser.parse_args()
    main(args.quick, args.rate, args.influx)
