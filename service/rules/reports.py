"""Utilisation report: open, booked and run hours, no-shows and energy, per site, kind or machine.

Hours are resource-hours: a site with three machines open 12 hours is open 36 hours.
Reservation and usage rows are summed by SQL (GROUP BY group and bucket), each row
clipped to the bucket it overlaps; a usage session's run time and energy are shared
out in proportion to the part of its span inside the bucket. Only opening hours are
worked out in Python, per site and day, never per reservation or run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from ..errors import Forbidden
from ..models import Blackout, Resource, Site
from .accounts import Principal
from .buckets import EVERY, Bucket, buckets
from .hours import hours_by_site, open_intervals
from .intervals import Interval, merge, subtract
from .report_sql import reservation_sums, run_sums

GROUPS = ("site", "kind", "resource")
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

    edges = [(b.start.timestamp(), b.end.timestamp()) for b in spans]

    def seconds(intervals: list[Interval]) -> list[float]:
        # One sweep over both sorted lists, on plain timestamps: a year of days against a
        # year of buckets would otherwise compare zone-aware datetimes a million times.
        totals = [0.0] * len(edges)
        first = 0
        for iv in sorted(intervals, key=lambda iv: iv.start):
            lo, hi = iv.start.timestamp(), iv.end.timestamp()
            while first < len(edges) and edges[first][1] <= lo:
                first += 1
            i = first
            while i < len(edges) and edges[i][0] < hi:
                totals[i] += max(0.0, min(hi, edges[i][1]) - max(lo, edges[i][0]))
                i += 1
        return totals

    # Worked out per site; only a machine with blackouts of its own needs its own sums.
    per_site = {site_id: seconds(intervals) for site_id, intervals in site_open.items()}
    found: dict[tuple[int, int], float] = {}
    for resource in resources:
        own = closed.get((resource.site_id, resource.id))
        figures = (
            seconds(subtract(site_open[resource.site_id], merge(own)))
            if own
            else per_site[resource.site_id]
        )
        for i, value in enumerate(figures):
            found[(resource.id or 0, i)] = value
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
    scope = None if actor.admin else list(sites)
    period = Bucket(start, end)
    booked = reservation_sums(session, group, spans, period, scope, now)
    runs = run_sums(session, group, spans, period, scope)
    opened = _open_seconds(session, sites, [r for r in resources if r.active], spans)

    lines: dict[str, Line] = {}
    for resource in resources:
        key = _key_of(group, resource)
        if key not in lines:
            lines[key] = _new_line(group, key, resource, sites, len(spans))
    by_id = {r.id or 0: r for r in resources}
    for (resource_id, i), seconds in opened.items():
        lines[_key_of(group, by_id[resource_id])].per_bucket[i].open_s += seconds
    for (key, i), (seconds, n, m) in booked.items():
        lines[key].per_bucket[i].booked_s += seconds
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
    scope: list[int] | None,
) -> list[Line]:
    """Active machines from least to most run time over the whole period."""
    machines = [r for r in resources if r.active and r.kind == "machine"]
    if group == "resource":
        per_machine = [lines[str(r.id)] for r in machines]
    else:
        whole = Bucket(spans[0].start, spans[-1].end)
        runs = run_sums(session, "resource", [whole], whole, scope)
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
