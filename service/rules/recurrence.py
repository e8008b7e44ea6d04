"""Expanding a recurrence into the occurrences of a series."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, WEEKLY, rrule

from ..errors import RuleViolation
from ..models import Recurrence
from .intervals import Interval


def occurrences(
    *, recurrence: Recurrence, start: datetime, end: datetime, zone_name: str, limit: int
) -> list[Interval]:
    """Each occurrence keeps the first one's local wall-clock time and length."""

    if recurrence.count is None and recurrence.until is None:
        raise RuleViolation("a recurrence needs count or until", code="recurrence")
    if recurrence.count is not None and recurrence.until is not None:
        # RFC 5545 forbids both; dateutil deprecates them together.
        raise RuleViolation("a recurrence has count or until, not both", code="recurrence")
    zone = ZoneInfo(zone_name)
    local_start = start.astimezone(zone).replace(tzinfo=None)
    length = end - start
    until = None
    if recurrence.until is not None:
        until = recurrence.until.astimezone(zone).replace(tzinfo=None)
    rule = rrule(
        DAILY if recurrence.freq == "daily" else WEEKLY,
        dtstart=local_start,
        interval=recurrence.interval,
        count=recurrence.count,
        until=until,
    )
    found: list[Interval] = []
    for local in rule:
        if len(found) == limit:
            raise RuleViolation(
                f"a series may have at most {limit} occurrences",
                {"max_recurrences": limit},
                code="recurrence",
            )
        first = local.replace(tzinfo=zone).astimezone(UTC)
        found.append(Interval(first, first + length))
    if not found:
        raise RuleViolation("the recurrence has no occurrence", code="recurrence")
    return found
