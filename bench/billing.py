"""Billing benchmark: issue a month of 2,000 accounts x 30 usage sessions on PostgreSQL.

Seeds one center of 50 machines charged by run time and 2,000 accounts, each with 30
walk-in runs in October 2026 (bulk inserts), so that the month bills 2,000 invoices of
30 lines each. Times `issue_invoices` for the month beside its floor in the same run
through the same driver: reading those usage sessions and bulk-inserting the same
number of invoices and lines (each as a draft with its lines, as the ledger guard
wants; the floor neither prices, numbers, issues nor audits). Both roll back between
repetitions; the last issuing run commits and its invoices are checked.
Goal: issuing within 3x the floor and under 30 s. PostgreSQL in a throwaway database.

Run by `make bench`; prints figures against their goals and always exits 0.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, insert  # noqa: E402
from sqlmodel import Session, col, func, select  # noqa: E402

from service.db import make_engine  # noqa: E402
from service.migrate import upgrade  # noqa: E402
from service.models import (  # noqa: E402
    Account,
    Device,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    LineBasis,
    Resource,
    ResourceKind,
    Site,
    UsageSession,
)
from service.rules.invoicing import issue_invoices  # noqa: E402
from service.rules.pricing import BillingTerms, parse_period  # noqa: E402
from tests import pg  # noqa: E402

ZONE = ZoneInfo("Asia/Seoul")
PERIOD = "2026-10"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=ZONE)
TERMS = BillingTerms(zone=ZONE, currency="KRW", vat_rate=Decimal("0.10"), no_show_percent=50)
GOAL_RATIO = 3.0
GOAL_S = 30.0
CHUNK = 5000
MACHINES = 50


def seed(engine: Engine, accounts: int, runs_each: int) -> int:
    """One site, its machines with a device each, the accounts and their walk-in runs."""
    rng = random.Random(12)
    with Session(engine) as session:
        site = Site(slug="seongsu", name="성수 센터")
        session.add(site)
        session.flush()
        machines = [
            Resource(
                site_id=site.id or 0,
                kind=ResourceKind.machine,
                slug=f"m-{i}",
                name=f"레이저 {i}",
                rate_per_hour=rng.choice((12_000, 18_000, 22_000)),
            )
            for i in range(MACHINES)
        ]
        session.add_all(machines)
        session.flush()
        devices = [Device(site_id=r.site_id, resource_id=r.id, slug=f"d-{r.id}") for r in machines]
        session.add_all(devices)
        session.commit()
        pairs = [(r.id or 0, d.id or 0) for r, d in zip(machines, devices, strict=True)]
    with engine.begin() as conn:
        conn.execute(
            insert(Account),
            [
                {
                    "email": f"maker{i}@example.com",
                    "name": f"메이커 {i}",
                    "password_hash": "",
                    "active": True,
                    "ical_secret": f"secret-{i}",
                }
                for i in range(accounts)
            ],
        )
        account_ids = list(conn.execute(select(Account.id).order_by(col(Account.id))).scalars())
    start = datetime(2026, 10, 1, 9, 0, tzinfo=ZONE)
    runs: list[dict[str, Any]] = []
    for n, account_id in enumerate(account_ids):
        for k in range(runs_each):
            resource_id, device_id = pairs[(n + k) % len(pairs)]
            at = start + timedelta(days=k % 30, minutes=(n * 7 + k * 13) % 600)
            seconds = rng.randint(60, 7200)
            runs.append(
                {
                    "resource_id": resource_id,
                    "device_id": device_id,
                    "account_id": account_id,
                    "start_at": at,
                    "end_at": at + timedelta(seconds=seconds),
                    "run_seconds": seconds,
                    "energy_wh": seconds * 0.5,
                    "last_sample_at": at + timedelta(seconds=seconds),
                    "walk_in": True,
                    "unauthorised": False,
                }
            )
    with engine.begin() as conn:
        for i in range(0, len(runs), CHUNK):
            conn.execute(insert(UsageSession), runs[i : i + CHUNK])
    return len(runs)


def floor(engine: Engine) -> int:
    """Read the month's usage sessions; insert an invoice per account and a line per run."""
    month = parse_period(PERIOD, ZONE)
    with Session(engine) as session:
        runs = session.execute(
            select(UsageSession)
            .where(
                col(UsageSession.start_at) >= month.start,
                col(UsageSession.start_at) < month.end,
                col(UsageSession.account_id).is_not(None),
            )
            .order_by(col(UsageSession.start_at))
        ).all()
        by_account: dict[int, list[UsageSession]] = {}
        for (run,) in runs:
            by_account.setdefault(run.account_id or 0, []).append(run)
        accounts = sorted(by_account)
        ids = session.execute(
            insert(Invoice).returning(Invoice.id, Invoice.account_id, sort_by_parameter_order=True),
            [
                {
                    "number": f"FLOOR-{n:06d}",
                    "account_id": account_id,
                    "period": PERIOD,
                    "kind": InvoiceKind.invoice,
                    "status": InvoiceStatus.draft,
                    "reason": "",
                    "issued_at": NOW,
                    "currency": "KRW",
                    "total": 0,
                    "vat": 0,
                    "net": 0,
                }
                for n, account_id in enumerate(accounts, start=1)
            ],
        ).all()
        lines = [
            {
                "invoice_id": invoice_id,
                "position": position,
                "basis": LineBasis.run_time,
                "description": "floor",
                "resource_id": run.resource_id,
                "usage_session_id": run.id,
                "quantity_minutes": run.run_seconds // 60,
                "unit_price": 0,
                "discount_percent": 0,
                "amount": 0,
            }
            for invoice_id, account_id in ids
            for position, run in enumerate(by_account[account_id], start=1)
        ]
        for i in range(0, len(lines), CHUNK):
            session.execute(insert(InvoiceLine), lines[i : i + CHUNK])
        session.rollback()
        return len(lines)


def issue(engine: Engine, commit: bool = False) -> int:
    with Session(engine) as session:
        done = issue_invoices(session=session, now=NOW, terms=TERMS, period=PERIOD, actor_id=None)
        if commit:
            session.commit()
        else:
            session.rollback()
        return len(done.created)


def timed(work: Callable[[], object], reps: int) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(reps):
        started = time.perf_counter()
        result = work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), result


def measure(url: str, accounts: int, runs_each: int, reps: int) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        runs = seed(engine, accounts, runs_each)
        print(
            f"\nPostgreSQL: {accounts:,} accounts x {runs_each} usage sessions = {runs:,} runs "
            f"in {PERIOD} on {MACHINES} machines (seeded in {time.perf_counter() - started:.1f} s)"
        )
        floor(engine)  # warm the pool, the caches and the pages
        base, lines = timed(lambda: floor(engine), reps)
        full, created = timed(lambda: issue(engine), reps)
        started = time.perf_counter()
        committed = issue(engine, commit=True)
        last = time.perf_counter() - started
        with Session(engine) as session:
            count, first, final = session.execute(
                select(func.count(), func.min(Invoice.number), func.max(Invoice.number))
            ).one()
            line_count = session.execute(select(func.count()).select_from(InvoiceLine)).scalar()
        ratio = full / base
        met = ratio <= GOAL_RATIO and full < GOAL_S
        print(
            f"  floor: read {runs:,} sessions, insert {accounts:,} invoices + {lines:,} lines: "
            f"median {base:.2f} s\n"
            f"  issue_invoices({PERIOD}): {created:,} invoices, median {full:.2f} s "
            f"({ratio:.2f}x the floor)   goal <= {GOAL_RATIO:.0f}x and < {GOAL_S:.0f} s: "
            f"{'met' if met else 'NOT MET'}\n"
            f"  committed run: {committed:,} invoices, {line_count:,} lines in {last:.2f} s, "
            f"numbers {first} .. {final} ({count:,} invoices)"
        )
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 accounts")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    accounts, runs_each = (200, 30) if args.quick else (2_000, 30)
    load_1, load_5, _ = os.getloadavg()
    print(
        f"smartfab billing benchmark: {os.cpu_count()} CPUs, load average {load_1:.1f} / "
        f"{load_5:.1f} (1 / 5 min) at start; other work on the machine skews the figures"
    )
    with (
        pg.server() as admin_dsn,
        pg.database(admin_dsn, f"smartfab_bench_billing_{os.getpid()}") as url,
    ):
        measure(url, accounts, runs_each, args.reps)


if __name__ == "__main__":
    main()
