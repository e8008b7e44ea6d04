"""Page speed: the week timeline of a busy center beside the API's availability of the same week.

A center with 24 machines and over 500 reservations in one week. Through Flask's
test client, in one run and interleaved, many requests of
  - the page  GET /book?site=&kind=machine&day=&view=week  (logged-in maker), and
  - the API   GET /api/v1/availability?site=&kind=machine&from=&to=  (the same week's data,
    without the page),
on PostgreSQL and on SQLite. Goals: the page's p95 within 3x the API's, and under 150 ms.
Like `smartfab web`'s workers, the run first moves the start-up heap out of the garbage
collector's reach (gc.freeze); `--no-gc-freeze` measures without it.

Run by `make bench`; prints figures against their goals and always exits 0.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask.testing import FlaskClient  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bench.booking_world import (  # noqa: E402
    HOURS,
    ZONE,
    Catalogue,
    add_makers,
    bookings,
    insert_bookings,
)
from bench.figures import ms, percentile, verdict  # noqa: E402
from service.app import create_app  # noqa: E402
from service.config import load_settings  # noqa: E402
from service.db import make_engine  # noqa: E402
from service.migrate import upgrade  # noqa: E402
from service.models import Blackout, OpeningHours, ResourceKind  # noqa: E402
from tests import pg  # noqa: E402
from tests.factories import PASSWORD, make_resource, make_site  # noqa: E402
from tests.pages import login  # noqa: E402

MONDAY = date(2026, 3, 9)
# Monday 08:00 in Seoul: the whole week lies ahead, as a maker planning it sees it.
NOW = datetime(2026, 3, 9, 8, tzinfo=ZONE).astimezone(UTC)
MACHINES = 38
RATIO_GOAL = 3.0
PAGE_GOAL_P95_MS = 150.0


def seed(url: str) -> tuple[int, str]:
    """The busy center; returns its reservation count in the week and a maker's token."""
    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(20260309)
    with Session(engine) as session:
        days, opens, closes = HOURS[0][0]
        site = make_site(session, "seongsu", hours=(opens, closes), days=days, timezone=ZONE.key)
        world = Catalogue(sites=[site])
        world.hours[site.id or 0] = [(d, o, c) for ds, o, c in HOURS[0] for d in ds]
        for extra_days, extra_opens, extra_closes in HOURS[0][1:]:
            for weekday in extra_days:
                session.add(
                    OpeningHours(
                        site_id=site.id or 0,
                        weekday=weekday,
                        opens=extra_opens,
                        closes=extra_closes,
                    )
                )
        for index in range(MACHINES):
            world.resources.append(
                make_resource(
                    session,
                    site,
                    f"m{index:02d}",
                    kind=ResourceKind.machine,
                    slot_minutes=60 if index % 4 == 3 else 30,
                    min_minutes=60 if index % 4 == 3 else 30,
                    max_minutes=240,
                    buffer_minutes=rng.choice((0, 0, 15, 30)),
                    rate_per_hour=20_000,
                )
            )
        add_makers(session, world, 20, NOW)
        # A morning's maintenance on three machines.
        closed = [
            Blackout(
                site_id=site.id or 0,
                resource_id=world.resources[i].id,
                start_at=datetime(2026, 3, 9 + i % 5, 9, tzinfo=ZONE),
                end_at=datetime(2026, 3, 9 + i % 5, 13, tzinfo=ZONE),
                reason="maintenance",
            )
            for i in (2, 7, 11)
        ]
        session.add_all(closed)
        session.flush()
        rows = bookings(world, first=MONDAY, days=7, now=NOW, rng=rng, blackouts=closed)
        insert_bookings(session, rows)
        session.commit()
        token = world.tokens[0]
    engine.dispose()
    return len(rows), token


def timed(call: Callable[[], int]) -> tuple[float, float]:
    """Wall time and this process's CPU time of one request (the CPU time ignores other
    programs on a shared machine; the database server's own work is not in it)."""
    started, cpu = time.perf_counter(), time.process_time()
    status = call()
    spent = time.perf_counter() - started, time.process_time() - cpu
    if status != 200:
        raise SystemExit(f"a request answered {status}")
    return spent


def measure(label: str, url: str, requests: int, freeze: bool = False) -> None:
    started = time.perf_counter()
    count, token = seed(url)
    settings = load_settings(
        path=ROOT / "config.toml", environ={}, overrides={"database": {"url": url}}
    )
    engine = make_engine(url)
    app = create_app(settings, engine)
    app.config.update(CLOCK=lambda: NOW)
    client: FlaskClient = app.test_client()
    assert login(client, email="maker000@bench.example", password=PASSWORD).status_code == 302
    week_start = datetime.combine(MONDAY, datetime.min.time(), ZONE)
    page = f"/book?site=seongsu&kind=machine&day={MONDAY + timedelta(days=2)}&view=week"
    day_page = f"/book?site=seongsu&kind=machine&day={MONDAY + timedelta(days=2)}"
    api = {
        "site": "seongsu",
        "kind": "machine",
        "from": week_start.isoformat(),
        "to": (week_start + timedelta(days=7)).isoformat(),
    }
    headers = {"Authorization": f"Bearer {token}"}
    calls = {
        "week page": lambda: client.get(page).status_code,
        "day page": lambda: client.get(day_page).status_code,
        "API": lambda: (
            client.get("/api/v1/availability", query_string=api, headers=headers).status_code
        ),
    }
    print(
        f"\n{label}: {MACHINES} machines, {count} reservations in the week "
        f"(seeded in {time.perf_counter() - started:.1f} s); {requests} requests each, interleaved"
    )
    if freeze:
        # What smartfab web's workers do after start-up (service/cli/webserver.py).
        gc.collect()
        gc.freeze()
    for call in calls.values():  # warm the pool, the caches and the templates
        for _ in range(20):
            timed(call)
    samples: dict[str, list[float]] = {name: [] for name in calls}
    cpu: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(requests):
        for name, call in calls.items():
            wall, used = timed(call)
            samples[name].append(wall)
            cpu[name].append(used)
    for name, values in samples.items():
        print(
            f"  {name:<10} p50 {ms(percentile(values, 50)):6.1f} ms  "
            f"p95 {ms(percentile(values, 95)):6.1f} ms  max {ms(max(values)):6.1f} ms   "
            f"(CPU p50 {ms(percentile(cpu[name], 50)):5.1f} ms, "
            f"p95 {ms(percentile(cpu[name], 95)):5.1f} ms)"
        )
    page_p95 = ms(percentile(samples["week page"], 95))
    api_p95 = ms(percentile(samples["API"], 95))
    ratio = page_p95 / api_p95
    print(
        f"  week page / API at p95: {ratio:.2f}x   goal <= {RATIO_GOAL:.0f}x: "
        f"{verdict(ratio <= RATIO_GOAL)}"
    )
    print(
        f"  week page p95 {page_p95:.1f} ms   goal < {PAGE_GOAL_P95_MS:.0f} ms: "
        f"{verdict(page_p95 < PAGE_GOAL_P95_MS)}"
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="per endpoint")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="leave the start-up heap to the collector (smartfab web freezes it)",
    )
    args = parser.parse_args()
    if not args.sqlite_only:
        with (
            pg.server() as admin_dsn,
            pg.database(admin_dsn, f"smartfab_bench_pages_{os.getpid()}") as url,
        ):
            measure("PostgreSQL", url, args.requests, args.gc_freeze)
    with tempfile.TemporaryDirectory(prefix="smartfab-bench-") as folder:
        measure("SQLite", f"sqlite:///{folder}/bench.db", args.requests, args.gc_freeze)


if __name__ == "__main__":
    main()
