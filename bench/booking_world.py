"""A busy support center for the benchmarks: sites, machines, rooms, makers and bookings.

Everything is drawn from a seeded random generator, so two runs build the same world.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlmodel import Session

from service.models import (
    Account,
    Blackout,
    OpeningHours,
    Reservation,
    ReservationStatus,
    Resource,
    ResourceKind,
    Role,
    RoleName,
    Site,
)
from service.rules.accounts import hash_password, issue_token
from tests.factories import PASSWORD, make_resource, make_site

ZONE = ZoneInfo("Asia/Seoul")

# The six specialised centers and the regional one that coordinates them.
SITES = ["seongsu", "euljiro", "doksan", "changsin", "jangwi", "bongik", "mullae"]

# Weekly opening hours, local time: (weekdays, opens, closes); several shapes on purpose.
HOURS: list[list[tuple[range, time, time]]] = [
    [(range(5), time(9), time(21)), (range(5, 6), time(10), time(18))],
    [(range(5), time(9), time(12)), (range(5), time(13), time(18))],
    [(range(7), time(8), time(22))],
]

# Machine categories and their slot grid; rooms book by the hour.
CATEGORIES = ["laser_cutter", "cnc_router", "3d_printer", "uv_printer", "sewing", "embroidery"]


@dataclass
class Catalogue:
    sites: list[Site] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    hours: dict[int, list[tuple[int, time, time]]] = field(default_factory=dict)


def add_sites(session: Session, hours: list[list[tuple[range, time, time]]]) -> Catalogue:
    """One site per center, cycling through the opening-hour shapes given."""
    world = Catalogue()
    for index, slug in enumerate(SITES):
        shape = hours[index % len(hours)]
        days, opens, closes = shape[0]
        site = make_site(session, slug, hours=(opens, closes), days=days, timezone=ZONE.key)
        for extra_days, extra_opens, extra_closes in shape[1:]:
            for weekday in extra_days:
                session.add(
                    OpeningHours(
                        site_id=site.id or 0,
                        weekday=weekday,
                        opens=extra_opens,
                        closes=extra_closes,
                    )
                )
        world.sites.append(site)
        world.hours[site.id or 0] = [(d, o, c) for ds, o, c in shape for d in ds]
    return world


def add_resources(
    session: Session, world: Catalogue, count: int, rng: random.Random, buffers: bool = True
) -> None:
    """`count` machines and rooms spread over the sites; about a third keep a buffer."""
    for index in range(count):
        site = world.sites[index % len(world.sites)]
        room = index % 8 == 7
        values: dict[str, Any] = {
            "kind": ResourceKind.room if room else ResourceKind.machine,
            "category": "" if room else CATEGORIES[index % len(CATEGORIES)],
            "slot_minutes": 60 if room else 30,
            "min_minutes": 60 if room else 30,
            "max_minutes": 480 if room else 240,
            "buffer_minutes": rng.choice((10, 15, 30)) if buffers and rng.random() < 0.33 else 0,
        }
        world.resources.append(make_resource(session, site, f"r{index:04d}", **values))


def add_makers(session: Session, world: Catalogue, count: int, now: datetime) -> None:
    """Makers with one bearer token each (the password is hashed once: it is slow on purpose)."""
    password_hash = hash_password(PASSWORD)
    for index in range(count):
        account = Account(
            email=f"maker{index:03d}@bench.example",
            name=f"maker {index}",
            password_hash=password_hash,
        )
        session.add(account)
        session.flush()
        session.add(Role(account_id=account.id or 0, role=RoleName.maker))
        world.accounts.append(account)
        world.tokens.append(issue_token(session=session, now=now, account=account, ttl_days=1))


def add_blackouts(
    session: Session, world: Catalogue, first: date, days: int, rng: random.Random
) -> list[Blackout]:
    """A public holiday at two sites and a 4-hour maintenance on one resource in ten."""
    found: list[Blackout] = []
    holiday = first + timedelta(days=2)
    for site in world.sites[:2]:
        found.append(
            Blackout(
                site_id=site.id or 0,
                start_at=datetime.combine(holiday, time(0), tzinfo=ZONE).astimezone(UTC),
                end_at=datetime.combine(holiday + timedelta(days=1), time(0), tzinfo=ZONE),
                reason="holiday",
            )
        )
    for resource in world.resources:
        if rng.random() < 0.1:
            day = first + timedelta(days=rng.randrange(days))
            start = datetime.combine(day, time(rng.choice((9, 13))), tzinfo=ZONE)
            found.append(
                Blackout(
                    site_id=resource.site_id,
                    resource_id=resource.id,
                    start_at=start,
                    end_at=start + timedelta(hours=4),
                    reason="maintenance",
                )
            )
    session.add_all(found)
    session.flush()
    return found


def _status(end: datetime, now: datetime, rng: random.Random) -> ReservationStatus:
    if end <= now:
        return ReservationStatus.no_show if rng.random() < 0.08 else ReservationStatus.completed
    return ReservationStatus.pending if rng.random() < 0.05 else ReservationStatus.confirmed


def bookings(
    world: Catalogue,
    *,
    first: date,
    days: int,
    now: datetime,
    rng: random.Random,
    blackouts: Sequence[Blackout] = (),
) -> list[dict[str, Any]]:
    """Rows for 30-50 % of every resource's open hours, in blocks of 1 to 3 hours.

    Gaps respect each resource's buffer and skip blackouts, so the rows are
    what the booking rules would have let through; about one row in twelve is
    an extra cancelled booking, which holds nothing.
    """
    rows: list[dict[str, Any]] = []
    for resource in world.resources:
        step = timedelta(minutes=resource.slot_minutes)
        buffer = timedelta(minutes=resource.buffer_minutes)
        closed = [
            (b.start_at, b.end_at)
            for b in blackouts
            if b.site_id == resource.site_id and b.resource_id in (None, resource.id)
        ]
        # Aim a little high: rounding up to the grid and the block that no longer
        # fits before closing time both eat into the share actually booked.
        occupancy = rng.uniform(0.38, 0.6)
        mean_gap = 2 * (1 - occupancy) / occupancy  # hours, against 2-hour blocks
        for offset in range(days):
            day = first + timedelta(days=offset)
            for weekday, opens, closes in world.hours[resource.site_id]:
                if weekday != day.weekday():
                    continue
                cursor = datetime.combine(day, opens, tzinfo=ZONE).astimezone(UTC)
                close = datetime.combine(day, closes, tzinfo=ZONE).astimezone(UTC)
                while True:
                    gap = timedelta(hours=rng.uniform(0, 2 * mean_gap))
                    cursor += max(gap, buffer)
                    cursor += -(cursor - datetime.combine(day, opens, tzinfo=ZONE)) % step
                    start, end = cursor, cursor + timedelta(hours=rng.choice((1, 1.5, 2, 2.5, 3)))
                    if end > close:
                        break
                    cursor = end + buffer
                    if any(s < end + buffer and start - buffer < e for s, e in closed):
                        continue
                    account = world.accounts[rng.randrange(len(world.accounts))].id or 0
                    row = _row(resource, account, start, end, _status(end, now, rng), now)
                    rows.append(row)
                    if rng.random() < 0.08:
                        rows.append(
                            _row(resource, account, start, end, ReservationStatus.cancelled, now)
                        )
    return rows


def _row(
    resource: Resource,
    account_id: int,
    start: datetime,
    end: datetime,
    status: ReservationStatus,
    now: datetime,
) -> dict[str, Any]:
    made = min(now, start) - timedelta(days=3)
    return {
        "resource_id": resource.id,
        "account_id": account_id,
        "created_by_id": account_id,
        "start_at": start,
        "end_at": end,
        "blocked_until": end + timedelta(minutes=resource.buffer_minutes),
        "status": status,
        "note": "",
        "walk_in": False,
        "override_reason": "",
        "sequence": 0,
        "created_at": made,
        "updated_at": made,
    }


def insert_bookings(session: Session, rows: list[dict[str, Any]], chunk: int = 5000) -> None:
    connection = session.connection()
    for index in range(0, len(rows), chunk):
        connection.execute(insert(Reservation), rows[index : index + chunk])


def booked_share(world: Catalogue, rows: list[dict[str, Any]], first: date, days: int) -> float:
    """Blocking booked hours over open hours, for the days from `first`."""
    lo = datetime.combine(first, time(0), tzinfo=ZONE)
    hi = lo + timedelta(days=days)
    blocking = ("pending", "confirmed", "active", "completed", "no_show")
    booked = sum(
        (
            min(r["end_at"], hi) - max(r["start_at"], lo)
            for r in rows
            if r["status"] in blocking and r["start_at"] < hi and r["end_at"] > lo
        ),
        timedelta(),
    )
    open_hours = timedelta()
    for resource in world.resources:
        for offset in range(days):
            day = first + timedelta(days=offset)
            for weekday, opens, closes in world.hours[resource.site_id]:
                if weekday == day.weekday():
                    open_hours += datetime.combine(day, closes) - datetime.combine(day, opens)
    return booked / open_hours if open_hours else 0.0
