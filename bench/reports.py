"""Utilisation report benchmark: a year of use of 300 machines, against one plain aggregate.

Seeds six centers of 50 machines each with a year of reservations and usage sessions
(bulk inserts), then times `utilisation(group=resource, every=month)` for the year and,
in the same run on the same rows, one plain SQL aggregate: the reservations' booked seconds
and the usage sessions' run seconds and energy, summed per resource in one GROUP BY over
both tables (the rows the report reads); the usage-only aggregate is printed beside it.
Goal: the report within 3x of the plain aggregate and under 1 s. On SQLite and on
PostgreSQL (a throwaway database).

Run by `make bench`; prints figures against their goals and always exits 0.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, func, insert, literal, union_all  # noqa: E402
from sqlmodel import Session, col, select  # noqa: E402

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
    UsageSession,
)
from service.rules.accounts import Principal  # noqa: E402
from service.rules.reports import utilisation  # noqa: E402
from tests import pg  # noqa: E402

ZONE = ZoneInfo("Asia/Seoul")
START = datetime(2025, 1, 1, tzinfo=ZONE)
GOAL_RATIO = 3.0
GOAL_S = 1.0
CHUNK = 5000


def seed(engine: Engine, machines: int, days: int) -> dict[str, int]:
    """Sites, machines with a device each, and per open day two bookings and two runs each."""
    rng = random.Random(7)
    per_site = max(1, machines // 6)
    with Session(engine) as session:
        account = Account(email="bench@example.com", name="bench")
        session.add(account)
        sites = [Site(slug=f"center-{i}", name=f"센터 {i}") for i in range(6)]
        session.add_all(sites)
        session.flush()
        for site in sites:
            for weekday in range(6):
                session.add(
                    OpeningHours(
                        site_id=site.id or 0, weekday=weekday, opens=clock(9), closes=clock(21)
                    )
                )
        resources = [
            Resource(
                site_id=sites[i % 6].id or 0,
                kind=ResourceKind.machine,
                slug=f"m-{i}",
                name=f"machine {i}",
            )
            for i in range(per_site * 6)
        ]
        session.add_all(resources)
        session.flush()
        devices = [Device(site_id=r.site_id, resource_id=r.id, slug=f"d-{r.id}") for r in resources]
        session.add_all(devices)
        session.commit()
        pairs = [(r.id or 0, d.id or 0) for r, d in zip(resources, devices, strict=True)]
        account_id = account.id or 0
    bookings: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    statuses = [ReservationStatus.completed] * 8 + [ReservationStatus.no_show]
    for day in range(days):
        date = START + timedelta(days=day)
        if date.weekday() == 6:
            continue
        for resource_id, device_id in pairs:
            for hour in (10, 15):
                start = date.replace(hour=hour) + timedelta(minutes=rng.choice((0, 30)))
                end = start + timedelta(hours=rng.choice((1, 2, 3)))
                status = rng.choice(statuses)
                bookings.append(
                    {
                        "resource_id": resource_id,
                        "account_id": account_id,
                        "created_by_id": account_id,
                        "start_at": start,
                        "end_at": end,
                        "blocked_until": end,
                        "status": status,
                        "created_at": start,
                        "updated_at": start,
                        "note": "",
                        "walk_in": False,
                        "override_reason": "",
                        "sequence": 0,
                    }
                )
                if status == ReservationStatus.no_show:
                    continue
                seconds = rng.randint(600, int((end - start).total_seconds()) - 300)
                run_start = start + timedelta(minutes=5)
                runs.append(
                    {
                        "resource_id": resource_id,
                        "device_id": device_id,
                        "account_id": account_id,
                        "start_at": run_start,
                        "end_at": run_start + timedelta(seconds=seconds),
                        "run_seconds": seconds,
                        "energy_wh": seconds * rng.uniform(0.2, 1.5),
                        "last_sample_at": run_start + timedelta(seconds=seconds),
                        "walk_in": False,
                        "unauthorised": False,
                    }
                )
    with engine.begin() as conn:
        for table, rows in ((Reservation, bookings), (UsageSession, runs)):
            for i in range(0, len(rows), CHUNK):
                conn.execute(insert(table), rows[i : i + CHUNK])  # type: ignore[arg-type]
    return {"machines": len(pairs), "reservations": len(bookings), "runs": len(runs)}


def timed(work: Callable[[], object], reps: int) -> float:
    work()  # warm the pool and the statement caches
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def measure(label: str, url: str, machines: int, days: int, reps: int) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        sizes = seed(engine, machines, days)
        print(
            f"\n{label}: {sizes['machines']} machines, {sizes['reservations']:,} reservations, "
            f"{sizes['runs']:,} usage sessions over {days} days "
            f"(seeded in {time.perf_counter() - started:.1f} s)"
        )
        end = START + timedelta(days=days)
        admin = Principal(id=1, admin=True)
        usage_only = (
            select(
                col(UsageSession.resource_id),
                func.sum(UsageSession.run_seconds),
                func.sum(UsageSession.energy_wh),
            )
            .where(UsageSession.start_at >= START, UsageSession.start_at < end)
            .group_by(col(UsageSession.resource_id))
        )
        # The report reads reservations and usage sessions: the floor is one plain aggregate
        # over those same rows (booked seconds, runs and energy per resource), nothing more.
        sqlite = engine.dialect.name == "sqlite"
        booked = (
            (func.julianday(Reservation.end_at) - func.julianday(Reservation.start_at)) * 86400.0
            if sqlite
            else func.extract("epoch", col(Reservation.end_at) - col(Reservation.start_at))
        )
        rows = union_all(
            select(
                col(Reservation.resource_id).label("resource_id"),
                booked.label("booked_s"),
                literal(0).label("run_s"),
                literal(0.0).label("energy_wh"),
            ).where(Reservation.start_at >= START, Reservation.start_at < end),
            select(
                col(UsageSession.resource_id),
                literal(0.0),
                col(UsageSession.run_seconds),
                col(UsageSession.energy_wh),
            ).where(UsageSession.start_at >= START, UsageSession.start_at < end),
        ).subquery()
        plain = select(
            rows.c.resource_id,
            func.sum(rows.c.booked_s),
            func.sum(rows.c.run_s),
            func.sum(rows.c.energy_wh),
        ).group_by(rows.c.resource_id)

        def report() -> object:
            with Session(engine) as session:
                return utilisation(
                    session=session,
                    now=datetime.now(UTC),
                    actor=admin,
                    group="resource",
                    every="month",
                    start=START,
                    end=end,
                    zone=ZONE,
                )

        def aggregate() -> object:
            with Session(engine) as session:
                return session.execute(plain).all()

        def usage_aggregate() -> object:
            with Session(engine) as session:
                return session.exec(usage_only).all()

        usage_base = timed(usage_aggregate, reps)
        base = timed(aggregate, reps)
        full = timed(report, reps)
        ratio = full / base
        met = ratio <= GOAL_RATIO and full < GOAL_S
        print(
            f"  usage sessions only, SUM ... GROUP BY resource_id: median "
            f"{usage_base * 1000:.0f} ms (report {full / usage_base:.2f}x)\n"
            f"  the report's rows (reservations and usage), one SUM ... GROUP BY resource_id: "
            f"median {base * 1000:.0f} ms\n"
            f"  utilisation(group=resource, every=month): median {full * 1000:.0f} ms "
            f"({ratio:.2f}x the plain aggregate)   goal <= {GOAL_RATIO:.0f}x and "
            f"< {GOAL_S * 1000:.0f} ms: {'met' if met else 'NOT MET'}"
        )
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 machines, 90 days")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    machines, days = (60, 90) if args.quick else (300, 365)
    load_1, load_5, _ = os.getloadavg()
    print(
        f"smartfab report benchmark: {os.cpu_count()} CPUs, load average {load_1:.1f} / "
        f"{load_5:.1f} (1 / 5 min) at start; other work on the machine skews the figures"
    )
    with tempfile.TemporaryDirectory(prefix="smartfab-bench-") as folder:
        measure("SQLite", f"sqlite:///{folder}/bench.db", machines, days, args.reps)
    with (
        pg.server() as admin_dsn,
        pg.database(admin_dsn, f"smartfab_bench_reports_{os.getpid()}") as url,
    ):
        measure("PostgreSQL", url, machines, days, args.reps)


if __name__ == "__main__":
    main()
