"""Utilisation report: open, booked and run hours, no-shows and energy, per site, kind or machine.

Hours are resource-hours: a site with three machines open 12 hours is open 36 hours.
Reservation and usage rows are summed by SQL (GROUP BY group and bucket), each row
clipped to the bucket it overlaps; a usage session's run time and energy are shared
out in proportion to the part of its span inside the bucket. Only opening hours are
worked out in Python, per site and day, never per reservation or run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, case, func, literal, or_, union_all
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from ..errors import Forbidden
from ..models import Blackout, Reservation, ReservationStatus, Resource, Site, UsageSession
from ..models.types import UTCDateTime
from .accounts import Principal
from .buckets import EVERY, Bucket, buckets
from .hours import hours_by_site, open_intervals
from .intervals import Interval, clip, merge, subtract

GROUPS = ("site", "kind", "resource")
# Held the resource: booked and not cancelled; a no-show kept others off until it was declared.
BOOKED = (
    ReservationStatus.pending,
    ReservationStatus.confirmed,
    ReservationStatus.active,
    ReservationStatus.completed,
    ReservationStatus.no_show,
)
# Reached their start: the booker was expected (pending bookings were never confirmed).
EXPECTED = (
    ReservationStatus.confirmed,
    ReservationStatus.active,
    ReservationStatus.completed,
    ReservationStatus.no_show,
)
RANKED = 10

__all__ = ["EVERY", "GROUPS", "Figures", "Line", "Report", "utilisation"]


@dataclass
class Figures:
    """What one group did in one span; ratios are None where they divide by nothing."""

    open_s: float = 0.0
    booked_s: float = 0.0
    run_s: float = 0.0
    started: int = 0
    no_shows: int = 0
    energy_wh: float = 0.0

    def add(self, other: Figures) -> None:
        self.open_s += other.open_s
        self.booked_s += other.booked_s
        self.run_s += other.run_s
        self.started += other.started
        self.no_shows += other.no_shows
        self.energy_wh += other.energy_wh

    @property
    def open_hours(self) -> float:
        return round(self.open_s / 3600, 2)

    @property
    def booked_hours(self) -> float:
        return round(self.booked_s / 3600, 2)

    @property
    def run_hours(self) -> float:
        return round(self.run_s / 3600, 2)

    @property
    def energy_kwh(self) -> float:
        return round(self.energy_wh / 1000, 3)

    @property
    def booked_ratio(self) -> float | None:
        return round(self.booked_s / self.open_s, 4) if self.open_s else None

    @property
    def run_ratio(self) -> float | None:
        return round(self.run_s / self.booked_s, 4) if self.booked_s else None

    @property
    def no_show_rate(self) -> float | None:
        return round(self.no_shows / self.started, 4) if self.started else None


@dataclass
class Line:
    """One group (a site, a kind or a resource), per bucket and in total."""

    key: str
    name: str
    name_en: str
    site_id: int | None
    per_bucket: list[Figures]
    total: Figures = field(default_factory=Figures)


@dataclass
class Report:
    group: str
    every: str
    start: datetime
    end: datetime
    buckets: list[Bucket]
    lines: list[Line]
    least_used: list[Line]
    most_used: list[Line]


def _bucket_table(spans: Sequence[Bucket]) -> Any:
    """The buckets as a small derived table (index, start_at, end_at), portable SQL."""
    rows = [
        select(
            literal(i, Integer).label("i"),
            literal(b.start, UTCDateTime).label("start_at"),
            literal(b.end, UTCDateTime).label("end_at"),
        )
        for i, b in enumerate(spans)
    ]
    return (union_all(*rows) if len(rows) > 1 else rows[0]).subquery("bucket")


def _seconds(session: Session, start: Any, end: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def _overlap(session: Session, start: Any, end: Any, bucket: Any) -> ColumnElement[Any]:
    """Seconds of [start, end) inside the bucket (rows are joined only where they overlap)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    least, greatest = (func.min, func.max) if sqlite else (func.least, func.greatest)
    return _seconds(session, greatest(start, bucket.c.start_at), least(end, bucket.c.end_at))


def _group_column(group: str) -> Any:
    if group == "site":
        return col(Resource.site_id)
    if group == "kind":
        return col(Resource.kind)
    return col(Resource.id)


def _booked(session: Session, group: str, bucket: Any, scope: Any) -> dict[tuple[str, int], float]:
    key = _group_column(group)
    r = Reservation
    seconds = func.sum(_overlap(session, col(r.start_at), col(r.end_at), bucket))
    statement = (
        select(key, bucket.c.i, seconds)
        .select_from(r)
        .join(Resource, col(Resource.id) == col(r.resource_id))
        .join(bucket, and_(col(r.start_at) < bucket.c.end_at, col(r.end_at) > bucket.c.start_at))
        .where(col(r.status).in_(BOOKED), scope)
        .group_by(key, bucket.c.i)
    )
    return {(str(k), i): float(s or 0) for k, i, s in session.exec(statement)}


def _expected(
    session: Session, group: str, bucket: Any, scope: Any, now: datetime
) -> dict[tuple[str, int], tuple[int, int]]:
    key = _group_column(group)
    r = Reservation
    no_show = func.sum(case((col(r.status) == ReservationStatus.no_show, 1), else_=0))
    statement = (
        select(key, bucket.c.i, func.count(), no_show)
        .select_from(r)
        .join(Resource, col(Resource.id) == col(r.resource_id))
        .join(bucket, and_(col(r.start_at) >= bucket.c.start_at, col(r.start_at) < bucket.c.end_at))
        .where(col(r.status).in_(EXPECTED), col(r.start_at) <= now, scope)
        .group_by(key, bucket.c.i)
    )
    return {(str(k), i): (int(n), int(m or 0)) for k, i, n, m in session.exec(statement)}


def _runs(
    session: Session, group: str, bucket: Any, scope: Any
) -> dict[tuple[str, int], tuple[float, float]]:
    key = _group_column(group)
    u = UsageSession
    end = func.coalesce(col(u.end_at), col(u.last_sample_at))
    span = _seconds(session, col(u.start_at), end)
    # The share of the session inside the bucket; a session of no length lies where it starts.
    share = case((span > 0, _overlap(session, col(u.start_at), end, bucket) / span), else_=1.0)
    statement = (
        select(
            key,
            bucket.c.i,
            func.sum(col(u.run_seconds) * share),
            func.sum(col(u.energy_wh) * share),
        )
        .select_from(u)
        .join(Resource, col(Resource.id) == col(u.resource_id))
        .join(
            bucket,
            and_(
                col(u.start_at) < bucket.c.end_at,
                or_(end > bucket.c.start_at, col(u.start_at) >= bucket.c.start_at),
            ),
        )
        .where(scope)
        .group_by(key, bucket.c.i)
    )
    return {(str(k), i): (float(s or 0), float(e or 0)) for k, i, s, e in session.exec(statement)}


def _open_seconds(
    session: Session, sites: dict[int, Site], resources: list[Resource], spans: list[Bucket]
) -> dict[tuple[int, int], float]:
    """(resource id, bucket index) → seconds open: site hours less site and resource blackouts."""
    start, end = spans[0].start, spans[-1].end
    hours = hours_by_site(session, set(sites))
    closed: dict[tuple[int, int | None], list[Interval]] = {}
    for blackout in session.exec(
        select(Blackout).where(
            col(Blackout.site_id).in_(sites), Blackout.start_at < end, Blackout.end_at > start
        )
    ):
        closed.setdefault((blackout.site_id, blackout.resource_id), []).append(
            Interval(blackout.start_at, blackout.end_at)
        )
    site_open = {
        site_id: subtract(
            open_intervals(hours.get(site_id, []), site, start, end),
            merge(closed.get((site_id, None), [])),
        )
        for site_id, site in sites.items()
    }
    found: dict[tuple[int, int], float] = {}
    for resource in resources:
        spans_open = site_open[resource.site_id]
        own = closed.get((resource.site_id, resource.id))
        if own:
            spans_open = subtract(spans_open, merge(own))
        for i, bucket in enumerate(spans):
            inside = clip(spans_open, bucket.start, bucket.end)
            found[(resource.id or 0, i)] = sum((iv.end - iv.start).total_seconds() for iv in inside)
    return found


def utilisation(
    *,
    session: Session,
    now: datetime,
    actor: Principal,
    group: str,
    every: str,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
) -> Report:
    """The report for [start, end) in `every` buckets of `zone`, for the sites `actor` runs."""
    if not actor.is_staff:
        raise Forbidden("reports are for operators and admins")
    spans = buckets(start, end, every, zone)
    site_query = select(Site).order_by(col(Site.id))
    if not actor.admin:
        site_query = site_query.where(col(Site.id).in_(actor.operator_sites))
    sites = {s.id or 0: s for s in session.exec(site_query)}
    resources = list(
        session.exec(
            select(Resource).where(col(Resource.site_id).in_(sites)).order_by(col(Resource.id))
        )
    )
    scope = col(Resource.site_id).in_(sites)
    bucket = _bucket_table(spans)
    booked = _booked(session, group, bucket, scope)
    expected = _expected(session, group, bucket, scope, now)
    runs = _runs(session, group, bucket, scope)
    opened = _open_seconds(session, sites, [r for r in resources if r.active], spans)

    lines: dict[str, Line] = {}
    for resource in resources:
        key = _key_of(group, resource)
        if key not in lines:
            lines[key] = _new_line(group, key, resource, sites, len(spans))
    by_id = {r.id or 0: r for r in resources}
    for (resource_id, i), seconds in opened.items():
        lines[_key_of(group, by_id[resource_id])].per_bucket[i].open_s += seconds
    for (key, i), seconds in booked.items():
        lines[key].per_bucket[i].booked_s += seconds
    for (key, i), (n, m) in expected.items():
        lines[key].per_bucket[i].started += n
        lines[key].per_bucket[i].no_shows += m
    for (key, i), (seconds, wh) in runs.items():
        lines[key].per_bucket[i].run_s += seconds
        lines[key].per_bucket[i].energy_wh += wh
    for line in lines.values():
        for figures in line.per_bucket:
            line.total.add(figures)
    ranked = _machines(session, resources, sites, opened, group, lines, spans, scope)
    return Report(
        group=group,
        every=every,
        start=start,
        end=end,
        buckets=spans,
        lines=list(lines.values()),
        least_used=ranked[:RANKED],
        most_used=list(reversed(ranked))[:RANKED],
    )


def _key_of(group: str, resource: Resource) -> str:
    if group == "site":
        return str(resource.site_id)
    if group == "kind":
        return str(resource.kind)
    return str(resource.id)


def _new_line(group: str, key: str, resource: Resource, sites: dict[int, Site], n: int) -> Line:
    figures = [Figures() for _ in range(n)]
    if group == "site":
        site = sites[resource.site_id]
        return Line(key, site.name, site.name_en, site.id, figures)
    if group == "kind":
        return Line(key, key, key, None, figures)
    return Line(key, resource.name, resource.name_en, resource.site_id, figures)


def _machines(
    session: Session,
    resources: list[Resource],
    sites: dict[int, Site],
    opened: dict[tuple[int, int], float],
    group: str,
    lines: dict[str, Line],
    spans: list[Bucket],
    scope: Any,
) -> list[Line]:
    """Active machines from least to most run time over the whole period."""
    machines = [r for r in resources if r.active and r.kind == "machine"]
    if group == "resource":
        per_machine = [lines[str(r.id)] for r in machines]
    else:
        whole = _bucket_table([Bucket(spans[0].start, spans[-1].end)])
        runs = _runs(session, "resource", whole, scope)
        per_machine = []
        for resource in machines:
            line = _new_line("resource", str(resource.id), resource, sites, 0)
            seconds, wh = runs.get((str(resource.id), 0), (0.0, 0.0))
            line.total.run_s, line.total.energy_wh = seconds, wh
            line.total.open_s = sum(
                opened.get((resource.id or 0, i), 0.0) for i in range(len(spans))
            )
            per_machine.append(line)
    return sorted(per_machine, key=lambda line: (line.total.run_s, int(line.key)))
