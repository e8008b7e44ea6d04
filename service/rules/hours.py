"""A site's opening hours: weekly local hours turned into UTC intervals (past midnight too)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from ..models import OpeningHours, Site
from .intervals import Interval, clip, merge


class Hours(NamedTuple):
    """One opening interval of a site on a weekday (0 = Monday), in local time."""

    site_id: int
    weekday: int
    opens: time
    closes: time


_HOURS = select(
    col(OpeningHours.site_id),
    col(OpeningHours.weekday),
    col(OpeningHours.opens),
    col(OpeningHours.closes),
).where(col(OpeningHours.site_id).in_(bindparam("site_ids", expanding=True)))


def hours_by_site(session: Session, site_ids: set[int]) -> dict[int, list[Hours]]:
    found: dict[int, list[Hours]] = defaultdict(list)
    for row in session.connection().execute(_HOURS, {"site_ids": list(site_ids)}):
        hours = Hours(*row)
        found[hours.site_id].append(hours)
    return found


def open_intervals(
    hours: list[Hours], site: Site, start: datetime, end: datetime
) -> list[Interval]:
    by_weekday: dict[int, list[Hours]] = defaultdict(list)
    for row in hours:
        by_weekday[row.weekday].append(row)
    zone = site.zone
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    found: list[Interval] = []
    while day <= last:
        for row in by_weekday.get(day.weekday(), ()):
            opens = datetime.combine(day, row.opens, tzinfo=zone)
            closes_day = day if row.closes > row.opens else day + timedelta(days=1)
            closes = datetime.combine(closes_day, row.closes, tzinfo=zone)
            found.append(Interval(opens.astimezone(UTC), closes.astimezone(UTC)))
        day += timedelta(days=1)
    return clip(merge(found), start, end)


def opening_intervals(
    *, session: Session, site: Site, start: datetime, end: datetime
) -> list[Interval]:
    """The site's opening hours between start and end, in UTC."""
    site_id = site.id or 0  # a stored site
    hours = hours_by_site(session, {site_id}).get(site_id, [])
    return open_intervals(hours, site, start, end)
