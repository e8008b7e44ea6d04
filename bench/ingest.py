"""Ingest benchmark: 200,000 queued telemetry messages from 500 devices, end to end.

1. `smartfab listen` connects once (creating its persistent MQTT session) and stops.
2. Devices publish N messages at QoS 1; the broker queues them for that session.
3. `smartfab listen` starts again; the clock runs until all N are queryable in
   InfluxDB (InfluxQL count over /query).
4. The same volume is queued for a bare paho subscriber that only counts, and timed
   the same way: the client-side limit of paho on this machine.

Steps 2 to 4 run `--rounds` times (2), alternating, and the best of each side is
compared: the speed of this shared machine drifts by tens of percent within minutes.
Prints msgs/s of both, their ratio, the listener's peak RSS and the number lost.
Real Mosquitto and InfluxDB (Debian's 1.6 behind the test front) run on free ports
in a temporary folder. Run by `make bench`; always exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

from bench.ingest_publish import publish  # noqa: E402
from devices.client import make_client  # noqa: E402
from devices.contract import topic_filter  # noqa: E402

GOAL_RATE = 20_000
# The bare subscriber's messages go under their own topic root (as long as the
# listener's), so that neither persistent session queues the other's.
BARE_ROOT = "benchfab"
GOAL_RATIO = 0.5
GOAL_RSS_MB = 400
SMARTFAB = str(Path(sys.executable).parent / "smartfab")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# -- the world: 500 machines, each with a device ---------------------------------------------


def prepare_database(url: str, n_devices: int) -> list[tuple[str, str]]:
    from sqlmodel import Session

    from service.db import make_engine
    from service.migrate import upgrade
    from service.rules.devices import ensure_devices
    from tests.factories import make_resource, make_site

    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        site = make_site(session, "seongsu", name="성수 스마트앵커", timezone="Asia/Seoul")
        for i in range(n_devices):
            make_resource(session, site, f"machine-{i:03d}")
        session.flush()
        devices = [("seongsu", d.slug) for d in ensure_devices(session=session, site=site)]
        session.commit()
    engine.dispose()
    return devices


# -- the bare subscriber ---------------------------------------------------------------------


def bare_subscriber(host: str, port: int, n: int, create_only: bool) -> None:
    """Count n messages of a persistent session (or just create the session), then exit."""
    client = make_client("bench-bare")
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 3600
    subscribed = threading.Event()
    done = threading.Event()
    count = 0

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        nonlocal count
        count += 1
        if count >= n:
            done.set()

    client.on_connect = lambda c, *_: c.subscribe(topic_filter(BARE_ROOT), qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = on_message
    client.connect(host, port, keepalive=60, clean_start=False, properties=properties)
    client.loop_start()
    if create_only:
        subscribed.wait(30)
    else:
        done.wait(600)
    client.disconnect()
    client.loop_stop()
    print(json.dumps({"count": count}), flush=True)


def run_bare(host: str, port: int, n: int, create_only: bool) -> tuple[float, int]:
    args = [sys.executable, __file__, "bare", host, str(port), str(n)]
    if create_only:
        args.append("--create-only")
    began = time.monotonic()
    out = subprocess.run(args, check=True, capture_output=True, timeout=900).stdout
    elapsed = time.monotonic() - began
    return elapsed, int(json.loads(out.decode().strip().splitlines()[-1])["count"])


# -- the listener ----------------------------------------------------------------------------


def listener_env(db_url: str, host: str, port: int, influx: dict[str, str], spool: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTFAB_")}
    env.update(
        {
            "SMARTFAB_CONFIG": str(ROOT / "config.toml"),
            "SMARTFAB_DATABASE__URL": db_url,
            "SMARTFAB_MQTT__HOST": host,
            "SMARTFAB_MQTT__PORT": str(port),
            "SMARTFAB_MQTT__CLIENT_ID": "bench-listener",
            "SMARTFAB_INFLUXDB__SPOOL_DIR": str(spool),
            **{f"SMARTFAB_INFLUXDB__{k.upper()}": v for k, v in influx.items()},
        }
    )
    return env


def start_listener(env: dict, log: Path) -> subprocess.Popen[bytes]:
    offset = log.stat().st_size if log.exists() else 0
    with log.open("ab") as out:
        proc = subprocess.Popen([SMARTFAB, "listen"], env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while b"session" not in log.read_bytes()[offset:]:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the listener did not connect:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)
    return proc


def peak_rss_mb(pid: int) -> float:
    """Peak RSS of a process and its children, in MB."""
    total = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            total += int(line.split()[1]) / 1024
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in children.read_text().split() if children.exists() else []:
        total += peak_rss_mb(int(child))
    return total


def children_cpu() -> float:
    """CPU seconds of the finished (and waited for) subprocesses so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def one_round(
    n: int,
    devices: list[tuple[str, str]],
    broker: Any,
    influx: Any,
    env: dict,
    log: Path,
    start: datetime,
    number: int,
) -> Round:
    """Queue n messages for the listener, time it; then the same for the bare subscriber."""
    rate = publish(broker.host, broker.port, devices, n, start, "smartfab")
    print(
        f"round {number + 1}: queued {n:,} messages from {len(devices)} devices "
        f"({rate:,.0f} msg/s published)"
    )
    # Only this round's points: a count over every round's would slow InfluxDB down.
    since = f"time >= {int(start.timestamp() * 1000)}ms"
    cpu = children_cpu()
    began = time.monotonic()
    proc = start_listener(env, log)
    deadline = began + 600
    while time.monotonic() < deadline:
        if influx.count("seq", since) >= n or proc.poll() is not None:
            break
        time.sleep(0.25)
    elapsed = time.monotonic() - began
    rss = peak_rss_mb(proc.pid)
    stop(proc)
    listener_cpu = children_cpu() - cpu
    count = influx.count("seq", since)

    publish(broker.host, broker.port, devices, n, start, BARE_ROOT)
    cpu = children_cpu()
    bare_elapsed, bare_count = run_bare(broker.host, broker.port, n, create_only=False)
    return Round(
        listener_rate=count / elapsed,
        listener_s=elapsed,
        listener_cpu=listener_cpu,
        rss=rss,
        lost=n - count,
        stats=worker_stats(log),
        bare_rate=bare_count / bare_elapsed,
        bare_s=bare_elapsed,
        bare_count=bare_count,
        bare_cpu=children_cpu() - cpu,
    )


@dataclass
class Round:
    listener_rate: float
    listener_s: float
    listener_cpu: float
    rss: float
    lost: int
    stats: str
    bare_rate: float
    bare_s: float
    bare_count: int
    bare_cpu: float


def main(n: int, n_devices: int, rounds: int) -> None:
    from tests.services import InfluxDatabase, Mosquitto, influxd_server

    root = Path(tempfile.mkdtemp(prefix="smartfab-bench-ingest-"))
    log = root / "listen.log"
    done: list[Round] = []
    try:
        with ExitStack() as stack:
            (root / "mosquitto").mkdir()
            broker = stack.enter_context(Mosquitto(root / "mosquitto"))
            (root / "influxd").mkdir()
            server = stack.enter_context(influxd_server(root / "influxd"))
            influx = InfluxDatabase(server, "bench").create()
            stack.callback(influx.front.stop)
            db_url = f"sqlite:///{root}/smartfab.db"
            devices = prepare_database(db_url, n_devices)
            env = listener_env(db_url, broker.host, broker.port, influx.settings(), root / "spool")
            stop(start_listener(env, log))
            run_bare(broker.host, broker.port, n, create_only=True)
            # Each round's samples are newer than the last round's (they span n ms).
            first = datetime.now(UTC) - timedelta(minutes=30)
            for number in range(rounds):
                start = first + timedelta(minutes=5 * number)
                done.append(one_round(n, devices, broker, influx, env, log, start, number))
    finally:
        shutil.rmtree(root, ignore_errors=True)

    for number, r in enumerate(done, 1):
        print(
            f"round {number}: listener {r.listener_rate:,.0f} msg/s ({r.listener_s:.1f} s), "
            f"bare {r.bare_rate:,.0f} msg/s ({r.bare_s:.1f} s), "
            f"ratio {r.listener_rate / r.bare_rate:.2f}"
        )
    best = max(done, key=lambda r: r.listener_rate)
    bare_best = max(done, key=lambda r: r.bare_rate)
    rss, lost = max(r.rss for r in done), sum(r.lost for r in done)
    print(f"best of {len(done)} rounds each (the machine's speed drifts between phases):")
    listener_rate, bare_rate = best.listener_rate, bare_best.bare_rate
    ratio = listener_rate / bare_rate
    rows = [
        (
            "listener → InfluxDB",
            f"{listener_rate:,.0f} msg/s",
            f"≥ {GOAL_RATE:,}",
            listener_rate >= GOAL_RATE,
            f"{best.listener_s:.1f} s for {n:,}",
        ),
        (
            "bare paho subscriber",
            f"{bare_rate:,.0f} msg/s",
            "",
            None,
            f"{bare_best.bare_s:.1f} s, counted {bare_best.bare_count:,}",
        ),
        ("ratio", f"{ratio:.2f}", f"≥ {GOAL_RATIO}", ratio >= GOAL_RATIO, ""),
        (
            "CPU per message",
            f"{best.listener_cpu / n * 1e6:,.0f} µs",
            "",
            None,
            f"bare {bare_best.bare_cpu / n * 1e6:,.0f} µs "
            f"(ratio {bare_best.bare_cpu / best.listener_cpu:.2f})",
        ),
        ("listener peak RSS", f"{rss:.0f} MB", f"< {GOAL_RSS_MB}", rss < GOAL_RSS_MB, ""),
        ("lost", f"{lost:,d}", "= 0", lost == 0, f"of {n * len(done):,} in all rounds"),
    ]
    for name, value, goal, ok, note in rows:
        mark = "" if ok is None else verdict(ok)
        print(f"{name:<22}{value:>14}  {goal:<10}{mark:<6}{note}")
    print(f"listener worker       {best.stats}")


def worker_stats(log: Path) -> str:
    """Where the listener's worker spent its time, from its closing line."""
    lines = [line for line in log.read_text().splitlines() if line.startswith("stopped:")]
    if not lines:
        return "(no closing line)"
    fields = dict(part.split("=", 1) for part in lines[-1].split()[1:])
    keys = ("batches", "decode_s", "store_s", "apply_s", "ack_s")
    return " ".join(f"{key}={fields.get(key, '?')}" for key in keys)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    bare = sub.add_parser("bare", help="(internal) the bare paho subscriber")
    bare.add_argument("host")
    bare.add_argument("port", type=int)
    bare.add_argument("n", type=int)
    bare.add_argument("--create-only", action="store_true")
    parser.add_argument("-n", type=int, default=200_000, help="messages (default 200,000)")
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2, help="listener and bare runs, alternated")
    args = parser.parse_args()
    if args.command == "bare":
        bare_subscriber(args.host, args.port, args.n, args.create_only)
    else:
        main(args.n, args.devices, args.rounds)
