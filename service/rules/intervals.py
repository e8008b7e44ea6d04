"""Half-open time intervals [start, end) and the set operations availability needs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple


class Interval(NamedTuple):
    start: datetime
    end: datetime

    def contains(self, start: datetime, end: datetime) -> bool:
        return self.start <= start and end <= self.end


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping union; touching intervals are joined."""
    merged: list[Interval] = []
    for iv in sorted(i for i in intervals if i.start < i.end):
        if merged and iv.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Interval(last.start, max(last.end, iv.end))
        else:
            merged.append(iv)
    return merged


def subtract(base: list[Interval], holes: Iterable[Interval]) -> list[Interval]:
    """`base` (merged) minus every hole."""
    result: list[Interval] = []
    holes = merge(holes)
    for iv in base:
        cursor = iv.start
        for hole in holes:
            if hole.end <= cursor or hole.start >= iv.end:
                continue
            if hole.start > cursor:
                result.append(Interval(cursor, hole.start))
            cursor = max(cursor, hole.end)
            if cursor >= iv.end:
                break
        if cursor < iv.end:
            result.append(Interval(cursor, iv.end))
    return result


def clip(intervals: list[Interval], start: datetime, end: datetime) -> list[Interval]:
    out = [Interval(max(iv.start, start), min(iv.end, end)) for iv in intervals]
    return [iv for iv in out if iv.start < iv.end]


def covers(intervals: list[Interval], start: datetime, end: datetime) -> bool:
    """Does one interval of the merged list hold all of [start, end)?"""
    return any(iv.contains(start, end) for iv in intervals)
