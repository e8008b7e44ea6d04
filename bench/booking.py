"""Booking benchmarks: availability on a busy center, and booking under concurrent load.

(a) `free_intervals` on 500 resources with a realistic load of reservations,
    on PostgreSQL and on SQLite;
(b) POST /api/v1/reservations against `smartfab web` next to the trivial
    GET /api/v1/ping of the same server, with 16 concurrent keep-alive clients.

Run by `make bench`; prints figures against their goals and always exits 0.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, event, func  # noqa: E402
from sqlmodel import Session, col, select  # noqa: E402

from bench import booking_load as load  # noqa: E402
from bench.booking_profile import profile_bookings  # noqa: E402
from bench.booking_world import (  # noqa: E402
    HOURS,
    ZONE,
    add_blackouts,
    add_makers,
    add_resources,
    add_sites,
    booked_share,
    bookings,
    insert_bookings,
)
from bench.figures import ms, percentile, verdict  # noqa: E402
from service.db import make_engine  # noqa: E402
from service.migrate import upgrade  # noqa: E402
from service.models import Blackout, Reservation, Resource, Site  # noqa: E402
from service.rules.availability import (  # noqa: E402
    free_intervals,
    free_intervals_many,
    layers,
    opening_intervals,
)
from tests import pg  # noqa: E402

# Monday 2 March 2026, 09:00 in Seoul: the frozen "now" of part (a).
NOW = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
RESOURCES = 500
WEEK_GOAL_P95_MS = 20.0
ALL_GOAL_MS = 500.0


# --- (a) availability -------------------------------------------------------------


@dataclass
class QueryClock:
    """Time spent in the database driver per table queried, from SQLAlchemy's cursor events."""

    engine: Engine
    on: bool = False
    spent: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    count: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def __post_init__(self) -> None:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, _cursor: Any, *_args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not self.on:
            return
        found = re.search(r'\bFROM\s+"?(\w+)', statement)
        table = found.group(1) if found else statement.split(None, 1)[0]
        self.spent[table] += time.perf_counter() - conn.info.pop("bench_started")
        self.count[table] += 1

    @contextmanager
    def measuring(self) -> Iterator[None]:
        self.spent.clear()
        self.count.clear()
        self.on = True
        try:
            yield
        finally:
            self.on = False


def seed_busy_center(engine: Engine) -> tuple[int, dict[str, Any]]:
    """500 resources with two weeks of history and four ahead; returns a buffered machine."""
    rng = random.Random(20260302)
    with Session(engine, expire_on_commit=False) as session:
        world = add_sites(session, HOURS)
        add_resources(session, world, RESOURCES, rng)
        add_makers(session, world, 60, NOW)
        today = NOW.astimezone(ZONE).date()
        blackouts = add_blackouts(session, world, today, 14, rng)
        rows = bookings(
            world,
            first=today - timedelta(days=14),
            days=42,
            now=NOW,
            rng=rng,
            blackouts=blackouts,
        )
        insert_bookings(session, rows)
        session.commit()
        chosen = next(
            r for r in world.resources if r.site_id == world.sites[0].id and r.buffer_minutes
        )
        sizes = {
            "sites": len(world.sites),
            "resources": len(world.resources),
            "reservations": session.exec(select(func.count(col(Reservation.id)))).one(),
            "blackouts": session.exec(select(func.count(col(Blackout.id)))).one(),
            "booked": booked_share(world, rows, today, 7),
        }
    return chosen.id or 0, sizes


def one_week(engine: Engine, resource_id: int, reps: int) -> tuple[list[float], int]:
    """Seconds per `free_intervals` call, each in a fresh session as a request has."""
    samples: list[float] = []
    free = 0
    for _ in range(reps):
        with Session(engine) as session:
            resource = session.get(Resource, resource_id)
            assert resource is not None
            site = session.get(Site, resource.site_id)
            assert site is not None
            started = time.perf_counter()
            found = free_intervals(
                session=session,
                resource=resource,
                site=site,
                start=NOW,
                end=NOW + timedelta(days=7),
                now=NOW,
            )
            samples.append(time.perf_counter() - started)
            free = len(found)
    return samples, free


def _catalogue(session: Session) -> list[tuple[Resource, Site]]:
    statement = (
        select(Resource, Site)
        .join(Site, col(Site.id) == col(Resource.site_id))
        .where(col(Resource.active).is_(True))
        .order_by(col(Resource.id))
    )
    return list(session.exec(statement).all())


def every_resource(engine: Engine, days: int = 14) -> int:
    """Free intervals of every active resource for `days`, as GET /api/v1/availability does."""
    with Session(engine) as session:
        found = free_intervals_many(
            session=session,
            resources=_catalogue(session),
            start=NOW,
            end=NOW + timedelta(days=days),
            now=NOW,
        )
    return sum(len(free) for free in found.values())


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def cpu_timed(action: Callable[[], Any]) -> tuple[float, float]:
    """Wall-clock and this process's CPU seconds of one call (CPU ignores waiting)."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def top_functions(profile: cProfile.Profile, limit: int) -> list[str]:
    """The `limit` functions with the most own time, as 'file:line(name) calls own cum'."""
    stats = pstats.Stats(profile)
    entries = stats.stats  # type: ignore[attr-defined]
    ranked = sorted(entries.items(), key=lambda item: item[1][2], reverse=True)[:limit]
    lines = []
    for (filename, line, name), (_cc, calls, own, cum, _callers) in ranked:
        short = filename.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
        lines.append(
            f"{ms(own):8.1f} ms own {ms(cum):8.1f} ms cum {calls:>7} calls  {short}:{line}({name})"
        )
    return lines


def by_part(engine: Engine, days: int = 14) -> dict[str, float]:
    """Seconds spent in each public step of `free_intervals`, over every resource.

    The steps alternate resource by resource, each in its own session, so that
    other work on the machine weighs on all of them alike.
    """
    start, end = NOW, NOW + timedelta(days=days)
    spent: dict[str, float] = defaultdict(float)
    with Session(engine) as one, Session(engine) as two, Session(engine) as three:
        for (_resource, site), (resource, site_2), (resource_3, site_3) in zip(
            _catalogue(one), _catalogue(two), _catalogue(three), strict=True
        ):
            began = time.perf_counter()
            opening_intervals(session=one, site=site, start=start, end=end)
            spent["opening"] += time.perf_counter() - began
            began = time.perf_counter()
            found = layers(session=two, resource=resource, site=site_2, start=start, end=end)
            middle = time.perf_counter()
            found.free()
            spent["layers"] += middle - began
            spent["free"] += time.perf_counter() - middle
            began = time.perf_counter()
            free_intervals(
                session=three, resource=resource_3, site=site_3, start=start, end=end, now=NOW
            )
            spent["whole"] += time.perf_counter() - began
    return spent


# Where own time is spent, by the file it is spent in.
GROUPS = (
    ("psycopg", "database driver (psycopg)"),
    ("sqlite3", "database driver (sqlite3)"),
    ("sqlalchemy/sql/", "SQLAlchemy statement building, cache keys"),
    ("sqlalchemy/orm/", "SQLAlchemy ORM: session, rows -> objects"),
    ("sqlalchemy/engine/", "SQLAlchemy engine: results, type processing"),
    ("service/models/types.py", "UTCDateTime result processing"),
    ("service/rules/", "availability rules, interval arithmetic"),
)


def own_time_by_group(profile: cProfile.Profile) -> list[tuple[str, float]]:
    spent: dict[str, float] = defaultdict(float)
    for (filename, _line, name), (_cc, _calls, own, _cum, _callers) in pstats.Stats(
        profile
    ).stats.items():  # type: ignore[attr-defined]
        where = f"{filename}:{name}"
        label = next(
            (text for key, text in GROUPS if key in where), "other (builtins, datetime, …)"
        )
        spent[label] += own
    return sorted(spent.items(), key=lambda item: item[1], reverse=True)


def breakdown(engine: Engine) -> None:
    """Print where one run over every resource spends its time."""
    parts = by_part(engine)
    print("  by step, over every resource:")
    for label, spent in (
        ("opening_intervals (opening_hours query + day loop)", parts["opening"]),
        (
            "layers() minus opening_intervals (blackout, reservation)",
            parts["layers"] - parts["opening"],
        ),
        ("Layers.free() (interval arithmetic)", parts["free"]),
        (
            "rest of free_intervals() (wider range, trim to slots)",
            parts["whole"] - parts["layers"] - parts["free"],
        ),
        ("free_intervals() in all", parts["whole"]),
    ):
        print(f"    {label:<58} {ms(spent):7.0f} ms")
    clock = QueryClock(engine)
    with clock.measuring():
        whole = timed(lambda: every_resource(engine))
    print(f"  one run of {ms(whole):.0f} ms, time inside the database driver per table:")
    for table in sorted(clock.spent, key=clock.spent.__getitem__, reverse=True):
        print(
            f"    {table:<14} {clock.count[table]:>5} queries {ms(clock.spent[table]):7.0f} ms"
            f"  ({ms(clock.spent[table]) / clock.count[table]:.2f} ms each)"
        )
    print(f"    {'(outside)':<14} {'':>13} {ms(whole - sum(clock.spent.values())):7.0f} ms")
    profile = cProfile.Profile()
    profile.enable()
    every_resource(engine)
    profile.disable()
    print("  cProfile of one run (profiler overhead included), own time by layer:")
    for label, own in own_time_by_group(profile):
        print(f"    {label:<46} {ms(own):7.0f} ms")
    print("  top functions by own time:")
    for line in top_functions(profile, 8):
        print("    " + line)


def availability_on(label: str, url: str, reps: int, runs: int) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        resource_id, sizes = seed_busy_center(engine)
        seeded = time.perf_counter() - started
        print(
            f"\n(a) availability on {label}: {sizes['sites']} sites, {sizes['resources']} "
            f"resources, {sizes['reservations']:,} reservations, {sizes['blackouts']} blackouts "
            f"(seeded in {seeded:.1f} s); {sizes['booked']:.0%} of the week's open hours booked"
        )
        one_week(engine, resource_id, 20)  # warm the pool, the caches and the statement cache
        samples, free = one_week(engine, resource_id, reps)
        p95 = ms(percentile(samples, 95))
        print(
            f"  one resource x 7 days, {reps} calls ({free} free intervals): "
            f"p50 {ms(percentile(samples, 50)):.2f} ms  p95 {p95:.2f} ms  "
            f"max {ms(max(samples)):.2f} ms   goal p95 < {WEEK_GOAL_P95_MS:.0f} ms: "
            f"{verdict(p95 < WEEK_GOAL_P95_MS)}"
        )
        every_resource(engine)
        runs_timed = [cpu_timed(lambda: every_resource(engine)) for _ in range(runs)]
        totals = [wall for wall, _cpu in runs_timed]
        total = ms(statistics.median(totals))
        cpu = ms(statistics.median(cpu for _wall, cpu in runs_timed))
        print(
            f"  all {sizes['resources']} resources x 14 days, {runs} runs: median {total:.0f} ms "
            f"(best {ms(min(totals)):.0f} ms, {total / sizes['resources']:.2f} ms per resource; "
            f"this process's CPU {cpu:.0f} ms)   goal < {ALL_GOAL_MS:.0f} ms: "
            f"{verdict(total < ALL_GOAL_MS)}"
        )
        if total >= ALL_GOAL_MS:
            breakdown(engine)
    finally:
        engine.dispose()


def part_a(admin_dsn: str, reps: int, runs: int) -> None:
    with pg.database(admin_dsn, f"smartfab_bench_avail_{os.getpid()}") as url:
        availability_on("PostgreSQL", url, reps, runs)
    with tempfile.TemporaryDirectory(prefix="smartfab-bench-") as folder:
        availability_on("SQLite", f"sqlite:///{folder}/bench.db", reps, runs)


def part_b(admin_dsn: str, count: int, workers: int, server_threads: list[int]) -> None:
    needed = (count + 4 * load.CLIENTS) * len(server_threads) + 320
    if needed > load.BOOKABLE * load.SLOTS_PER_DAY * load.SLOT_DAYS:
        raise SystemExit(f"--requests {count} asks for more distinct slots than are seeded")
    with (
        pg.database(admin_dsn, f"smartfab_bench_web_{os.getpid()}") as url,
        tempfile.TemporaryDirectory(prefix="smartfab-bench-") as folder,
    ):
        resource_ids, tokens = load.seed_server_db(url)
        slot_source = load.slots(resource_ids)
        met = True
        for threads in server_threads:
            trivial, creation, seen = load.run_once(
                admin_dsn, url, workers, threads, count, slot_source, tokens, Path(folder)
            )
            met = load.report(threads, seen, trivial, creation, count) and met
        if not met:
            profile_bookings(url, load.bookings_requests(slot_source, tokens, 320))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("a", "b", "all"), default="all")
    parser.add_argument("--reps", type=int, default=300, help="(a) calls for one resource")
    parser.add_argument("--runs", type=int, default=5, help="(a) runs over every resource")
    parser.add_argument("--requests", type=int, default=load.REQUESTS, help="(b) per endpoint")
    parser.add_argument("--workers", type=int, default=0, help="(b) processes; 0: one per core")
    parser.add_argument(
        "--threads",
        default=str(load.SERVER_THREADS),
        help="(b) waitress threads; a comma-separated list runs each",
    )
    args = parser.parse_args()
    load_1, load_5, _ = os.getloadavg()
    print(
        f"smartfab booking benchmark: {os.cpu_count()} CPUs, load average {load_1:.1f} / "
        f"{load_5:.1f} (1 / 5 min) at start; other work on the machine skews the figures"
    )
    with pg.server() as admin_dsn:
        if args.part in ("a", "all"):
            part_a(admin_dsn, args.reps, args.runs)
        if args.part in ("b", "all"):
            threads = [int(t) for t in args.threads.split(",") if t.strip()]
            part_b(admin_dsn, args.requests, args.workers, threads)


if __name__ == "__main__":
    main()
