"""A site's clocks and a resource's slot grid, read on the site's wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.models import Resource, Site
from service.rules.sitetime import SlotGrid, local_clock

SEOUL = Site(slug="seongsu", name="Seongsu", timezone="Asia/Seoul")
BERLIN = Site(slug="berlin", name="Berlin", timezone="Europe/Berlin")


def grid(slot_minutes: int, site: Site = SEOUL) -> SlotGrid:
    return SlotGrid.of(Resource(slug="laser", name="Laser", slot_minutes=slot_minutes), site)


def seoul(hour: int, minute: int, second: int = 0, microsecond: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, second, microsecond, tzinfo=SEOUL.zone)


def test_local_clock_shows_hours_and_minutes_on_the_sites_clocks():
    assert local_clock(datetime(2026, 3, 2, 0, 5, 59, tzinfo=UTC), SEOUL) == "09:05"


def test_a_boundary_is_its_own_floor_and_ceiling():
    on = seoul(10, 0)
    assert grid(25).offset(on) == timedelta(0)
    assert (grid(25).floor(on), grid(25).ceil(on)) == (on, on)


def test_slots_count_from_local_midnight_not_from_utc_midnight():
    # 25-minute slots: 10:00 and 10:25 in Seoul are boundaries; 01:00 and 01:25 UTC are not.
    moment = seoul(10, 3)
    assert grid(25).offset(moment) == timedelta(minutes=3)
    assert grid(25).floor(moment) == seoul(10, 0)
    assert grid(25).ceil(moment) == seoul(10, 25)


def test_seconds_and_microseconds_past_a_boundary_count():
    moment = seoul(10, 0, 7, 250)
    assert grid(25).offset(moment) == timedelta(seconds=7, microseconds=250)
    assert grid(25).floor(moment) == seoul(10, 0)
    assert grid(25).ceil(moment) == seoul(10, 25)


@pytest.mark.parametrize(
    ("hour", "minute", "second", "floor", "ceil"),
    [
        (13, 0, 1, (12, 0), (13, 30)),
        (13, 29, 59, (12, 0), (13, 30)),
        (23, 59, 0, (22, 30), (0, 0)),
    ],
)
def test_ninety_minute_slots_follow_hours_minutes_and_seconds(hour, minute, second, floor, ceil):
    moment = seoul(hour, minute, second)
    assert grid(90).floor(moment) == seoul(*floor)
    expected = seoul(*ceil) + (timedelta(days=1) if ceil == (0, 0) else timedelta(0))
    assert grid(90).ceil(moment) == expected


def test_the_grid_follows_the_wall_clock_across_a_daylight_saving_change():
    # Berlin moves from 02:00 to 03:00 on 29 March 2026: 03:00 local is still a boundary.
    after = datetime(2026, 3, 29, 3, 0, tzinfo=BERLIN.zone)
    assert grid(60, BERLIN).offset(after) == timedelta(0)
    assert grid(60, BERLIN).floor(after + timedelta(minutes=20)) == after
