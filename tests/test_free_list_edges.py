"""Free time of several resources at once, and the slot check, at their edges."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from service.errors import Conflict, RuleViolation
from service.models import ReservationStatus
from service.rules.availability import (
    bookable_window,
    check_slot,
    free_intervals,
    free_intervals_many,
)
from service.rules.policy import check_grid
from tests.conftest import CURRENT_TIME
from tests.factories import make_blackout, make_reservation, make_resource, make_site, seoul

NOW = CURRENT_TIME  # Monday 2 March 2026, 09:00 in Seoul


def utc(text: str) -> str:
    """A Seoul wall-clock time as the UTC text the database gives back."""
    return seoul(text).astimezone(UTC).isoformat()


def spans(intervals) -> list[tuple[str, str]]:
    """Intervals as Seoul wall-clock text, for readable comparisons."""
    zone = seoul("2026-01-01 00:00").tzinfo
    return [
        (
            iv.start.astimezone(zone).strftime("%m-%d %H:%M"),
            iv.end.astimezone(zone).strftime("%m-%d %H:%M"),
        )
        for iv in intervals
    ]


def free_many(session, world, names, start: str, end: str, now=NOW) -> dict[str, list]:
    pairs = [
        (
            world.resources[n],
            next(s for s in world.sites.values() if s.id == world.resources[n].site_id),
        )
        for n in names
    ]
    found = free_intervals_many(
        session=session, resources=pairs, start=seoul(start), end=seoul(end), now=now
    )
    return {n: spans(found[world.id(n)]) for n in names}


def free_one(session, world, name: str, start: str, end: str, now=NOW) -> list[tuple[str, str]]:
    resource = world.resources[name]
    site = next(s for s in world.sites.values() if s.id == resource.site_id)
    return spans(
        free_intervals(
            session=session,
            resource=resource,
            site=site,
            start=seoul(start),
            end=seoul(end),
            now=now,
        )
    )


def test_one_resources_blackout_stays_off_the_others_free_list(session, world):
    site = world.sites["seongsu"]
    make_blackout(
        session,
        site,
        seoul("2026-03-03 10:00"),
        seoul("2026-03-03 12:00"),
        world.resources["laser"],
    )
    found = free_many(session, world, ["laser", "cnc"], "2026-03-03 00:00", "2026-03-04 00:00")
    assert found["laser"] == [("03-03 09:00", "03-03 10:00"), ("03-03 12:00", "03-03 21:00")]
    assert found["cnc"] == [("03-03 09:00", "03-03 21:00")]


def test_a_site_blackout_reaches_every_resource_of_that_site_only(session, world):
    make_blackout(
        session, world.sites["seongsu"], seoul("2026-03-03 10:00"), seoul("2026-03-03 12:00")
    )
    found = free_many(session, world, ["laser", "lathe"], "2026-03-03 00:00", "2026-03-04 00:00")
    assert found["laser"] == [("03-03 09:00", "03-03 10:00"), ("03-03 12:00", "03-03 21:00")]
    assert found["lathe"] == [("03-03 09:00", "03-03 21:00")]


def test_one_resources_bookings_stay_off_the_others_free_list(session, world):
    make_reservation(
        session,
        world,
        "maker",
        "laser",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        ReservationStatus.confirmed,
    )
    session.commit()
    found = free_many(session, world, ["laser", "cnc"], "2026-03-03 00:00", "2026-03-04 00:00")
    assert found["laser"] == [("03-03 09:00", "03-03 10:00"), ("03-03 11:00", "03-03 21:00")]
    assert found["cnc"] == [("03-03 09:00", "03-03 21:00")]


def test_each_resource_keeps_its_own_buffer_in_a_shared_list(session, world):
    for name in ("laser", "cnc"):
        held = make_reservation(
            session,
            world,
            "maker",
            name,
            "2026-03-03 10:00",
            "2026-03-03 11:00",
            ReservationStatus.confirmed,
        )
        # As booking sets it: the end plus the resource's buffer.
        held.blocked_until = held.end_at + timedelta(minutes=world.resources[name].buffer_minutes)
    session.commit()
    found = free_many(session, world, ["laser", "cnc"], "2026-03-03 00:00", "2026-03-04 00:00")
    assert found["laser"] == [("03-03 09:00", "03-03 10:00"), ("03-03 11:00", "03-03 21:00")]
    # The CNC's 15 buffer minutes, trimmed to its 30-minute grid.
    assert found["cnc"] == [("03-03 09:00", "03-03 09:30"), ("03-03 11:30", "03-03 21:00")]


def test_a_range_that_cuts_a_longer_free_stretch_shows_the_part_inside_it(session, world):
    # The printer books whole hours; 10:30-11:15 lies inside the day's free stretch.
    assert free_one(session, world, "printer", "2026-03-03 10:30", "2026-03-03 11:15") == [
        ("03-03 10:30", "03-03 11:15")
    ]


def test_a_range_that_cuts_a_stretch_at_its_end_keeps_the_grid(session, world):
    assert free_one(session, world, "printer", "2026-03-03 19:30", "2026-03-03 23:00") == [
        ("03-03 19:30", "03-03 21:00")
    ]


def test_a_gap_shorter_than_a_booking_is_not_free_even_inside_the_range(session, world):
    for hours in ("09:00-10:00", "10:30-12:00"):
        start, end = hours.split("-")
        make_reservation(
            session,
            world,
            "maker",
            "printer",
            f"2026-03-03 {start}",
            f"2026-03-03 {end}",
            ReservationStatus.confirmed,
        )
    session.commit()
    assert free_one(session, world, "printer", "2026-03-03 09:00", "2026-03-03 13:00") == [
        ("03-03 12:00", "03-03 13:00")
    ]


def test_two_hour_slots_follow_the_sites_day_not_utc(session, world):
    printer = world.resources["printer"]
    printer.slot_minutes, printer.min_minutes = 120, 120
    session.add(printer)
    session.commit()
    # Open 09:00-21:00 Seoul: the two-hour grid of Seoul's day gives 10:00-20:00.
    assert free_one(session, world, "printer", "2026-03-03 00:00", "2026-03-04 00:00") == [
        ("03-03 10:00", "03-03 20:00")
    ]


def test_an_empty_range_is_free_nowhere(session, world):
    assert free_many(session, world, ["laser", "cnc"], "2026-03-03 12:00", "2026-03-03 12:00") == {
        "laser": [],
        "cnc": [],
    }
    assert (
        free_intervals_many(
            session=session,
            resources=[],
            start=seoul("2026-03-03 09:00"),
            end=seoul("2026-03-03 21:00"),
            now=NOW,
        )
        == {}
    )


def test_a_range_wholly_past_the_furthest_day_is_free_nowhere_for_that_resource(session, world):
    printer = world.resources["printer"]
    printer.max_days_ahead = 1
    session.add(printer)
    session.commit()
    found = free_many(session, world, ["printer", "cnc"], "2026-03-05 00:00", "2026-03-06 00:00")
    assert found == {"printer": [], "cnc": [("03-05 09:00", "03-05 21:00")]}


def test_free_time_runs_from_now_to_the_furthest_moment(session, world):
    printer = world.resources["printer"]
    printer.max_days_ahead = 1
    session.add(printer)
    session.commit()
    noon = NOW + timedelta(hours=3)  # Monday 12:00 in Seoul: bookable until Tuesday 12:00
    assert free_one(session, world, "printer", "2026-03-02 00:00", "2026-03-04 00:00", noon) == [
        ("03-02 12:00", "03-02 21:00"),
        ("03-03 09:00", "03-03 12:00"),
    ]


def test_the_bookable_window_runs_from_the_lead_time_to_the_furthest_day(world):
    laser = world.resources["laser"]
    laser.lead_minutes = 90
    window = bookable_window(resource=laser, now=NOW)
    assert window.start == NOW + timedelta(minutes=90)
    assert window.end == NOW + timedelta(days=60)


def _slot(session, world, name, start, end, **kw) -> None:
    resource = world.resources[name]
    site = next(s for s in world.sites.values() if s.id == resource.site_id)
    check_slot(
        session=session, resource=resource, site=site, start=seoul(start), end=seoul(end), **kw
    )


def test_a_booking_whose_buffer_reaches_past_the_range_still_clashes(session, world):
    # CNC 12:00-13:00 keeps others out from 11:45 (15 buffer minutes).
    make_reservation(
        session,
        world,
        "maker",
        "cnc",
        "2026-03-03 12:00",
        "2026-03-03 13:00",
        ReservationStatus.confirmed,
    )
    session.commit()
    with pytest.raises(Conflict):
        _slot(session, world, "cnc", "2026-03-03 10:00", "2026-03-03 11:50")
    _slot(session, world, "cnc", "2026-03-03 10:00", "2026-03-03 11:45")


def test_a_clash_names_the_reservation_in_the_way(session, world):
    held = make_reservation(
        session,
        world,
        "maker",
        "laser",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        ReservationStatus.confirmed,
    )
    session.commit()
    with pytest.raises(Conflict) as caught:
        _slot(session, world, "laser", "2026-03-03 10:30", "2026-03-03 11:30")
    assert caught.value.details == {
        "conflicting_reservation": {
            "id": held.id,
            "start": utc("2026-03-03 10:00"),
            "end": utc("2026-03-03 11:00"),
            "status": "confirmed",
        }
    }
    assert str(held.id) in caught.value.message
    # Moving that same reservation does not clash with itself.
    _slot(
        session,
        world,
        "laser",
        "2026-03-03 10:30",
        "2026-03-03 11:30",
        ignore_reservation_id=held.id,
    )


def test_a_blackout_refusal_names_the_blackout(session, world):
    blackout = make_blackout(
        session,
        world.sites["seongsu"],
        seoul("2026-03-03 10:00"),
        seoul("2026-03-03 12:00"),
        reason="정기 점검",
    )
    with pytest.raises(RuleViolation) as caught:
        _slot(session, world, "laser", "2026-03-03 11:30", "2026-03-03 12:30")
    assert caught.value.code == "blackout"
    assert caught.value.message == "closed: 정기 점검"
    assert caught.value.details == {
        "blackout_id": blackout.id,
        "start": utc("2026-03-03 10:00"),
        "end": utc("2026-03-03 12:00"),
    }


def test_a_blackout_without_a_reason_is_called_a_blackout(session, world):
    make_blackout(
        session, world.sites["seongsu"], seoul("2026-03-03 10:00"), seoul("2026-03-03 12:00")
    )
    with pytest.raises(RuleViolation) as caught:
        _slot(session, world, "laser", "2026-03-03 09:00", "2026-03-03 10:30")
    assert caught.value.message == "closed: blackout"


def test_bookings_touching_a_blackout_on_either_side_are_allowed(session, world):
    make_blackout(
        session, world.sites["seongsu"], seoul("2026-03-03 10:00"), seoul("2026-03-03 12:00")
    )
    _slot(session, world, "laser", "2026-03-03 09:00", "2026-03-03 10:00")
    _slot(session, world, "laser", "2026-03-03 12:00", "2026-03-03 13:00")


def test_an_override_waives_hours_and_blackouts_but_not_a_clash(session, world):
    make_blackout(
        session, world.sites["seongsu"], seoul("2026-03-03 10:00"), seoul("2026-03-03 12:00")
    )
    _slot(session, world, "laser", "2026-03-03 07:00", "2026-03-03 11:00", override=True)
    with pytest.raises(RuleViolation) as caught:
        _slot(session, world, "laser", "2026-03-03 07:00", "2026-03-03 09:30")
    assert caught.value.code == "outside_opening_hours"
    make_reservation(
        session,
        world,
        "maker",
        "laser",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        ReservationStatus.confirmed,
    )
    session.commit()
    with pytest.raises(Conflict):
        _slot(session, world, "laser", "2026-03-03 10:00", "2026-03-03 11:00", override=True)


def test_bookings_touching_another_on_either_side_are_allowed(session, world):
    make_reservation(
        session,
        world,
        "maker",
        "laser",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        ReservationStatus.confirmed,
    )
    session.commit()
    _slot(session, world, "laser", "2026-03-03 09:00", "2026-03-03 10:00")
    _slot(session, world, "laser", "2026-03-03 11:00", "2026-03-03 12:00")


def test_free_time_after_an_odd_moment_starts_at_the_next_whole_slot(session, world):
    # A blackout of the printer (one-hour slots) that ends at 10:20:10.
    make_blackout(
        session,
        world.sites["seongsu"],
        seoul("2026-03-03 09:00"),
        seoul("2026-03-03 10:20:10"),
        world.resources["printer"],
    )
    printer = world.resources["printer"]
    found = free_intervals(
        session=session,
        resource=printer,
        site=world.sites["seongsu"],
        start=seoul("2026-03-03 00:00"),
        end=seoul("2026-03-04 00:00"),
        now=NOW,
    )
    assert [(iv.start, iv.end) for iv in found] == [
        (seoul("2026-03-03 11:00"), seoul("2026-03-03 21:00"))
    ]


def test_a_start_a_fraction_of_a_second_off_the_grid_is_refused(world):
    laser, site = world.resources["laser"], world.sites["seongsu"]
    with pytest.raises(RuleViolation) as caught:
        check_grid(
            resource=laser,
            site=site,
            start=seoul("2026-03-03 10:00:00.500000"),
            end=seoul("2026-03-03 11:00"),
        )
    assert caught.value.code == "slot_alignment"


def test_a_refusal_outside_opening_hours_says_so(session, world):
    with pytest.raises(RuleViolation) as caught:
        _slot(session, world, "laser", "2026-03-03 20:00", "2026-03-03 22:00")
    assert caught.value.message == "the site is closed for part of this time"


def test_a_resource_at_a_site_without_hours_is_free_nowhere(session, world):
    site = make_site(session, "closed", days=range(0))
    world.sites["closed"] = site
    world.resources["idle"] = make_resource(session, site, "idle-1")
    session.commit()
    found = free_many(session, world, ["idle", "laser"], "2026-03-03 00:00", "2026-03-04 00:00")
    assert found == {"idle": [], "laser": [("03-03 09:00", "03-03 21:00")]}
