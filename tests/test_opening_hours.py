"""A site's opening hours as UTC intervals: past midnight, whole days, early hours, none."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from service.rules.hours import opening_intervals
from tests.factories import make_site, seoul


def hours_of(session, site, start: str, end: str) -> list[tuple]:
    found = opening_intervals(session=session, site=site, start=seoul(start), end=seoul(end))
    return [(iv.start, iv.end) for iv in found]


def site_with(session, slug: str, hours=(time(9), time(21)), days=range(6), **kw):
    site = make_site(session, slug, hours=hours, days=days, timezone="Asia/Seoul", **kw)
    session.commit()
    return site


def test_each_open_day_is_one_interval_from_opening_to_closing(session, world):
    # Monday 2 March to Wednesday 4 March 00:00, Seoul.
    assert hours_of(session, world.sites["seongsu"], "2026-03-02 00:00", "2026-03-04 00:00") == [
        (seoul("2026-03-02 09:00"), seoul("2026-03-02 21:00")),
        (seoul("2026-03-03 09:00"), seoul("2026-03-03 21:00")),
    ]


def test_the_intervals_are_clipped_to_the_range_asked(session, world):
    assert hours_of(session, world.sites["seongsu"], "2026-03-03 10:00", "2026-03-03 12:00") == [
        (seoul("2026-03-03 10:00"), seoul("2026-03-03 12:00"))
    ]


def test_a_closed_day_has_no_interval(session, world):
    # Sunday 8 March.
    assert hours_of(session, world.sites["seongsu"], "2026-03-08 00:00", "2026-03-09 00:00") == []


def test_a_site_without_hours_is_never_open(session, world):
    site = site_with(session, "nowhere", days=range(0))
    assert hours_of(session, site, "2026-03-02 00:00", "2026-03-09 00:00") == []


def test_hours_past_midnight_end_on_the_next_day(session, world):
    # Open Friday 22:00 to Saturday 02:00 only.
    site = site_with(session, "night", hours=(time(22), time(2)), days=range(4, 5))
    assert hours_of(session, site, "2026-03-06 00:00", "2026-03-08 00:00") == [
        (seoul("2026-03-06 22:00"), seoul("2026-03-07 02:00"))
    ]


def test_hours_past_midnight_count_on_the_morning_after(session, world):
    site = site_with(session, "night", hours=(time(22), time(2)), days=range(4, 5))
    assert hours_of(session, site, "2026-03-07 00:00", "2026-03-07 12:00") == [
        (seoul("2026-03-07 00:00"), seoul("2026-03-07 02:00"))
    ]


def test_twenty_four_hour_days_join_into_one_interval(session, world):
    site = site_with(session, "always", hours=(time(0), time(0)), days=range(7))
    assert hours_of(session, site, "2026-03-02 06:00", "2026-03-05 06:00") == [
        (seoul("2026-03-02 06:00"), seoul("2026-03-05 06:00"))
    ]


def test_a_twenty_four_hour_day_runs_midnight_to_midnight(session, world):
    site = site_with(session, "sundays", hours=(time(0), time(0)), days=range(6, 7))
    assert hours_of(session, site, "2026-03-07 00:00", "2026-03-10 00:00") == [
        (seoul("2026-03-08 00:00"), seoul("2026-03-09 00:00"))
    ]


def test_hours_opening_before_nine_in_seoul_fall_on_the_previous_utc_day(session, world):
    # 07:00 in Seoul is 22:00 UTC the day before; the range ends at 08:30 Seoul on
    # Wednesday, still Tuesday in UTC.
    site = site_with(session, "early", hours=(time(7), time(10)), days=range(7))
    assert hours_of(session, site, "2026-03-03 12:00", "2026-03-04 08:30") == [
        (seoul("2026-03-04 07:00"), seoul("2026-03-04 08:30"))
    ]


def test_a_range_starting_late_in_the_evening_keeps_the_next_mornings_hours(session, world):
    site = site_with(session, "early2", hours=(time(7), time(10)), days=range(7))
    # 23:30 Monday in Seoul is 14:30 UTC Monday.
    assert hours_of(session, site, "2026-03-02 23:30", "2026-03-03 09:00") == [
        (seoul("2026-03-03 07:00"), seoul("2026-03-03 09:00"))
    ]


def test_split_hours_on_one_day_are_two_intervals(session, world):
    from service.models import OpeningHours

    site = site_with(session, "split", hours=(time(9), time(12)), days=range(1))
    session.add(OpeningHours(site_id=site.id or 0, weekday=0, opens=time(13), closes=time(18)))
    session.commit()
    assert hours_of(session, site, "2026-03-02 00:00", "2026-03-03 00:00") == [
        (seoul("2026-03-02 09:00"), seoul("2026-03-02 12:00")),
        (seoul("2026-03-02 13:00"), seoul("2026-03-02 18:00")),
    ]


def test_hours_of_another_site_are_not_mixed_in(session, world):
    site = site_with(session, "mornings", hours=(time(6), time(8)), days=range(7))
    assert hours_of(session, site, "2026-03-02 00:00", "2026-03-03 00:00") == [
        (seoul("2026-03-02 06:00"), seoul("2026-03-02 08:00"))
    ]


def test_a_site_west_of_utc_keeps_the_day_before_in_its_own_zone(session, world):
    from zoneinfo import ZoneInfo

    # Open around the clock from Thursday 23:30 to Friday 23:30 in New York; asked
    # from Friday 23:00 there, which is already Saturday in UTC.
    site = make_site(session, "nyc", hours=(time(23, 30), time(23, 30)), days=range(3, 4))
    site.timezone = "America/New_York"
    session.commit()
    ny = ZoneInfo("America/New_York")
    start = datetime(2026, 3, 6, 23, 0, tzinfo=ny)
    found = opening_intervals(
        session=session, site=site, start=start, end=start + timedelta(hours=1)
    )
    assert [(iv.start, iv.end) for iv in found] == [
        (start, datetime(2026, 3, 6, 23, 30, tzinfo=ny))
    ]
