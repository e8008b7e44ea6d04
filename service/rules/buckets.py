"""Report buckets: days, weeks (from Monday) or months on a site's clocks, clipped to a period."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ..errors import RuleViolation

EVERY = ("day", "week", "month")
# The longest period each bucket size may cover: a report stays a page, and a query stays quick.
LONGEST = {"day": timedelta(days=93), "week": timedelta(days=371), "month": timedelta(days=1097)}


class Bucket(NamedTuple):
    start: datetime
    end: datetime


def _first_day(day: date, every: str) -> date:
    if every == "week":
        return day - timedelta(days=day.weekday())
    if every == "month":
        return day.replace(day=1)
    return day


def _next_day(day: date, every: str) -> date:
    if every == "week":
        return day + timedelta(days=7)
    if every == "month":
        return date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return day + timedelta(days=1)


def buckets(start: datetime, end: datetime, every: str, zone: ZoneInfo) -> list[Bucket]:
    """[start, end) cut at local midnights of each day, Monday or first of the month."""
    if every not in EVERY:
        raise RuleViolation("'every' must be day, week or month", code="invalid_every")
    if end <= start:
        raise RuleViolation("'to' must be after 'from'", code="invalid_range")
    if end - start > LONGEST[every]:
        raise RuleViolation(
            f"a report by {every} covers at most {LONGEST[every].days} days",
            code="range_too_long",
        )
    found: list[Bucket] = []
    day = _first_day(start.astimezone(zone).date(), every)
    edge = start
    while edge < end:
        day = _next_day(day, every)
        following = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
        found.append(Bucket(edge, min(following, end)))
        edge = following
    return found


def this_month(moment: datetime, zone: ZoneInfo) -> Bucket:
    """The month on the site's clocks that `moment` falls in."""
    first = _first_day(moment.astimezone(zone).date(), "month")
    return Bucket(
        datetime.combine(first, time(), tzinfo=zone).astimezone(UTC),
        datetime.combine(_next_day(first, "month"), time(), tzinfo=zone).astimezone(UTC),
    )
