"""The weekly quota: Monday 00:00 in the site's zone, this site only, this kind only."""

from __future__ import annotations

import pytest

from service.errors import RuleViolation
from service.models import ReservationStatus
from service.rules.policy import check_quota, week_bounds
from tests.factories import make_reservation, seoul


def ask(session, world, resource: str, start: str, end: str, **kw) -> None:
    res = world.resources[resource]
    check_quota(
        session=session,
        resource=res,
        site=world.sites["seongsu" if res.site_id == world.sites["seongsu"].id else "mullae"],
        account_id=world.id(kw.pop("who", "maker")),
        start=seoul(start),
        end=seoul(end),
        **kw,
    )


def refused(session, world, resource: str, start: str, end: str, **kw) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        ask(session, world, resource, start, end, **kw)
    assert caught.value.code == "quota_exceeded"
    return caught.value


def test_the_week_runs_from_monday_midnight_to_the_next_in_the_site_zone(world):
    site = world.sites["seongsu"]
    # Sunday 23:59 Seoul is still the week that began on Monday 23 February.
    assert week_bounds(site, seoul("2026-03-01 23:59")) == (
        seoul("2026-02-23 00:00"),
        seoul("2026-03-02 00:00"),
    )
    # Monday 00:00 Seoul (Sunday 15:00 UTC) begins the next one.
    assert week_bounds(site, seoul("2026-03-02 00:00")) == (
        seoul("2026-03-02 00:00"),
        seoul("2026-03-09 00:00"),
    )


def test_ten_hours_fit_a_ten_hour_quota_and_a_minute_more_does_not(session, world):
    make_reservation(session, world, "maker", "cnc", "2026-03-03 09:00", "2026-03-03 15:00")
    ask(session, world, "laser", "2026-03-04 09:00", "2026-03-04 13:00")
    error = refused(session, world, "laser", "2026-03-04 09:00", "2026-03-04 13:01")
    assert error.details == {"quota_hours": 10, "held_hours": 6.0}
    assert "10 hours for machines" in error.message


def test_hours_of_the_week_before_monday_midnight_do_not_count(session, world):
    # Ends on the stroke of Monday 00:00 Seoul: entirely last week.
    make_reservation(session, world, "maker", "cnc", "2026-03-01 14:00", "2026-03-02 00:00")
    ask(session, world, "laser", "2026-03-03 09:00", "2026-03-03 19:00")


def test_hours_from_next_monday_midnight_do_not_count(session, world):
    make_reservation(session, world, "maker", "cnc", "2026-03-09 00:00", "2026-03-09 10:00")
    ask(session, world, "laser", "2026-03-03 09:00", "2026-03-03 19:00")


def test_a_booking_across_monday_midnight_counts_only_its_hours_within_the_week(session, world):
    # Sunday 22:00 to Monday 04:00 holds four hours of the week that starts on Monday.
    make_reservation(session, world, "maker", "cnc", "2026-03-01 22:00", "2026-03-02 04:00")
    ask(session, world, "laser", "2026-03-03 09:00", "2026-03-03 15:00")
    error = refused(session, world, "laser", "2026-03-03 09:00", "2026-03-03 15:30")
    assert error.details["held_hours"] == 4.0


def test_a_booking_across_next_monday_midnight_counts_only_its_hours_within_the_week(
    session, world
):
    make_reservation(session, world, "maker", "cnc", "2026-03-08 20:00", "2026-03-09 06:00")
    ask(session, world, "laser", "2026-03-03 09:00", "2026-03-03 15:00")
    error = refused(session, world, "laser", "2026-03-03 09:00", "2026-03-03 15:30")
    assert error.details["held_hours"] == 4.0


def test_the_asked_booking_counts_only_its_hours_within_its_starting_week(session, world):
    make_reservation(session, world, "maker", "cnc", "2026-03-02 09:00", "2026-03-02 17:00")
    # Sunday 22:00 to Monday 04:00: two hours in the week it starts in.
    ask(session, world, "laser", "2026-03-08 22:00", "2026-03-09 04:00")
    refused(session, world, "laser", "2026-03-08 21:30", "2026-03-09 04:00")


def test_a_booking_from_the_week_before_counts_its_hours_in_the_week_it_starts(session, world):
    make_reservation(session, world, "maker", "cnc", "2026-02-23 09:00", "2026-02-23 17:00")
    # Starts Sunday 1 March: only 22:00-24:00 falls in the week of 23 February.
    ask(session, world, "laser", "2026-03-01 22:00", "2026-03-02 06:00")
    refused(session, world, "laser", "2026-03-01 21:30", "2026-03-02 06:00")


def test_hours_at_another_site_do_not_count(session, world):
    make_reservation(session, world, "maker", "lathe", "2026-03-03 09:00", "2026-03-03 17:00")
    ask(session, world, "laser", "2026-03-04 09:00", "2026-03-04 19:00")


def test_the_other_sites_quota_applies_to_its_own_bookings(session, world):
    mullae = world.sites["mullae"]
    mullae.machine_quota_hours = 2
    session.add(mullae)
    session.commit()
    make_reservation(session, world, "maker", "cnc", "2026-03-03 09:00", "2026-03-03 17:00")
    ask(session, world, "lathe", "2026-03-04 09:00", "2026-03-04 11:00")
    error = refused(session, world, "lathe", "2026-03-04 09:00", "2026-03-04 11:30")
    assert error.details == {"quota_hours": 2, "held_hours": 0.0}


def test_another_makers_hours_do_not_count(session, world):
    make_reservation(session, world, "other", "cnc", "2026-03-03 09:00", "2026-03-03 17:00")
    ask(session, world, "laser", "2026-03-04 09:00", "2026-03-04 19:00")


@pytest.mark.parametrize(
    "status,counts",
    [
        (ReservationStatus.pending, True),
        (ReservationStatus.confirmed, True),
        (ReservationStatus.active, True),
        (ReservationStatus.completed, True),
        (ReservationStatus.cancelled, False),
        (ReservationStatus.no_show, False),
    ],
)
def test_which_reservations_count_against_the_quota(session, world, status, counts):
    make_reservation(session, world, "maker", "cnc", "2026-03-03 09:00", "2026-03-03 17:00", status)
    if counts:
        refused(session, world, "laser", "2026-03-04 09:00", "2026-03-04 12:00")
    else:
        ask(session, world, "laser", "2026-03-04 09:00", "2026-03-04 12:00")


def test_moving_a_booking_does_not_count_it_twice(session, world):
    held = make_reservation(
        session, world, "maker", "laser", "2026-03-03 09:00", "2026-03-03 17:00"
    )
    make_reservation(session, world, "maker", "cnc", "2026-03-05 09:00", "2026-03-05 11:00")
    # Moved: its own eight hours make way, the CNC's two still count.
    ask(
        session,
        world,
        "laser",
        "2026-03-04 09:00",
        "2026-03-04 17:00",
        ignore_reservation_id=held.id,
    )
    refused(
        session,
        world,
        "laser",
        "2026-03-04 09:00",
        "2026-03-04 17:30",
        ignore_reservation_id=held.id,
    )
    refused(session, world, "laser", "2026-03-04 09:00", "2026-03-04 10:00")


def test_hours_of_next_week_do_not_make_room_this_week(session, world):
    make_reservation(session, world, "maker", "cnc", "2026-03-03 09:00", "2026-03-03 17:00")
    make_reservation(session, world, "maker", "cnc", "2026-03-10 09:00", "2026-03-10 19:00")
    refused(session, world, "laser", "2026-03-04 09:00", "2026-03-04 12:00")


def test_hours_of_last_week_do_not_make_room_this_week(session, world):
    make_reservation(session, world, "maker", "cnc", "2026-02-24 09:00", "2026-02-24 19:00")
    make_reservation(session, world, "maker", "cnc", "2026-03-03 09:00", "2026-03-03 17:00")
    refused(session, world, "laser", "2026-03-04 09:00", "2026-03-04 12:00")


@pytest.mark.parametrize("minutes,shown", [(20, 0.33), (90, 1.5), (150, 2.5)])
def test_held_hours_are_shown_to_two_decimals(session, world, minutes, shown):
    end = f"2026-03-03 {9 + minutes // 60:02d}:{minutes % 60:02d}"
    make_reservation(session, world, "maker", "cnc", "2026-03-03 09:00", end)
    error = refused(session, world, "laser", "2026-03-04 09:00", "2026-03-04 19:00")
    assert error.details["held_hours"] == shown


def test_room_hours_count_against_the_room_quota_not_the_machine_quota(session, world):
    site = world.sites["seongsu"]
    site.room_quota_hours = 3
    session.add(site)
    session.commit()
    make_reservation(session, world, "maker", "cnc", "2026-03-03 09:00", "2026-03-03 17:00")
    make_reservation(session, world, "maker", "room", "2026-03-03 09:00", "2026-03-03 11:00")
    ask(session, world, "room", "2026-03-04 09:00", "2026-03-04 10:00")
    error = refused(session, world, "room", "2026-03-04 09:00", "2026-03-04 11:00")
    assert error.details == {"quota_hours": 3, "held_hours": 2.0}
    assert "rooms" in error.message
    # The machine quota sees the machine hours only.
    ask(session, world, "laser", "2026-03-04 09:00", "2026-03-04 11:00")


def test_a_site_without_a_room_quota_lets_rooms_be_booked_without_limit(session, world):
    make_reservation(session, world, "maker", "room", "2026-03-03 09:00", "2026-03-03 21:00")
    ask(session, world, "room", "2026-03-04 09:00", "2026-03-04 21:00")
