"""Booking rules about time: slot grid, duration, opening hours, blackouts, buffers, lead time.

The world's clock stands at Monday 2 March 2026, 09:00 in Seoul; Seongsu is open
Monday to Saturday 09:00-21:00 and allows 10 machine hours a week per maker.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from service.models import Training
from tests.factories import book, make_blackout, make_resource, make_site, refused, seoul


def train(session: Session, world, name: str, category: str, expires_on: date | None) -> None:
    session.add(Training(account_id=world.id(name), category=category, expires_on=expires_on))
    session.commit()


# --- slot grid -------------------------------------------------------------------------


def test_start_off_the_slot_grid_is_422_slot_alignment(client, world):
    answer = book(client, world, "maker", "laser", "2026-03-03 10:15", "2026-03-03 11:15")
    error = refused(answer, 422, "slot_alignment")
    assert error["details"] == {"slot_minutes": 30}


def test_end_off_a_sixty_minute_grid_is_422_slot_alignment(client, world):
    answer = book(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:30")
    refused(answer, 422, "slot_alignment")


def test_half_past_is_on_a_thirty_minute_grid_but_not_on_a_sixty_minute_one(client, world):
    laser = book(client, world, "maker", "laser", "2026-03-03 10:30", "2026-03-03 11:00")
    assert laser.status_code == 201, laser.json
    printer = book(client, world, "maker", "printer", "2026-03-03 10:30", "2026-03-03 11:30")
    refused(printer, 422, "slot_alignment")


def test_start_with_seconds_is_422_slot_alignment(client, world):
    answer = client.post(
        "/api/v1/reservations",
        headers=world.headers("maker"),
        json={
            "resource_id": world.id("printer"),
            "start": "2026-03-03T10:00:30+09:00",
            "end": "2026-03-03T11:00:00+09:00",
        },
    )
    refused(answer, 422, "slot_alignment")


# --- duration --------------------------------------------------------------------------


def test_booking_longer_than_the_maximum_is_422_duration(client, world):
    answer = book(client, world, "maker", "printer", "2026-03-03 09:00", "2026-03-03 18:00")
    error = refused(answer, 422, "duration")
    assert error["details"] == {"min_minutes": 60, "max_minutes": 480}


def test_booking_shorter_than_the_minimum_is_422_duration(client, world, session):
    world.resources["kiln"] = make_resource(
        session, world.sites["seongsu"], "kiln-1", min_minutes=90, max_minutes=180
    )
    session.commit()
    short = book(client, world, "maker", "kiln", "2026-03-03 10:00", "2026-03-03 11:00")
    refused(short, 422, "duration")
    enough = book(client, world, "maker", "kiln", "2026-03-03 10:00", "2026-03-03 11:30")
    assert enough.status_code == 201, enough.json


def test_bookings_of_exactly_the_minimum_and_the_maximum_length_are_201(client, world):
    shortest = book(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    assert shortest.status_code == 201, shortest.json
    longest = book(client, world, "maker", "printer", "2026-03-04 10:00", "2026-03-04 18:00")
    assert longest.status_code == 201, longest.json


@pytest.mark.parametrize("end", ["2026-03-03 10:00", "2026-03-03 09:00"])
def test_end_not_after_start_is_422_invalid_range(client, world, end):
    answer = book(client, world, "maker", "printer", "2026-03-03 10:00", end)
    refused(answer, 422, "invalid_range")


# --- opening hours ---------------------------------------------------------------------


def test_booking_across_closing_time_is_422_outside_opening_hours(client, world):
    answer = book(client, world, "maker", "laser", "2026-03-03 20:30", "2026-03-03 21:30")
    refused(answer, 422, "outside_opening_hours")


def test_booking_that_ends_at_closing_time_is_201(client, world):
    answer = book(client, world, "maker", "laser", "2026-03-03 20:30", "2026-03-03 21:00")
    assert answer.status_code == 201, answer.json


def test_booking_across_opening_time_is_422_outside_opening_hours(client, world):
    answer = book(client, world, "maker", "laser", "2026-03-03 08:30", "2026-03-03 09:30")
    refused(answer, 422, "outside_opening_hours")


def test_booking_on_sunday_is_422_outside_opening_hours(client, world):
    answer = book(client, world, "maker", "printer", "2026-03-08 10:00", "2026-03-08 11:00")
    refused(answer, 422, "outside_opening_hours")


def test_booking_on_saturday_is_201(client, world):
    answer = book(client, world, "maker", "printer", "2026-03-07 10:00", "2026-03-07 11:00")
    assert answer.status_code == 201, answer.json


def _post_utc(client, world, resource: str, start: str, end: str):
    return client.post(
        "/api/v1/reservations",
        headers=world.headers("maker"),
        json={"resource_id": world.id(resource), "start": start, "end": end},
    )


def test_opening_hours_are_those_of_the_site_time_zone_not_utc(client, world):
    # 03:00Z is noon in Seoul: open there, though 03:00 would be before opening in UTC.
    noon = _post_utc(client, world, "printer", "2026-03-03T03:00:00Z", "2026-03-03T04:00:00Z")
    assert noon.status_code == 201, noon.json
    # 11:30Z-12:30Z is 20:30-21:30 in Seoul: across closing time.
    late = _post_utc(client, world, "laser", "2026-03-03T11:30:00Z", "2026-03-03T12:30:00Z")
    refused(late, 422, "outside_opening_hours")


def test_grid_and_hours_follow_a_site_with_a_half_hour_offset(client, world, session):
    pune = make_site(session, "pune", timezone="Asia/Kolkata")
    world.resources["press"] = make_resource(
        session, pune, "press-1", slot_minutes=60, min_minutes=60, max_minutes=240
    )
    session.commit()
    # 10:00-11:00 in Kolkata (UTC+05:30) lies on the hour grid there, not in UTC.
    on_grid = _post_utc(client, world, "press", "2026-03-03T04:30:00Z", "2026-03-03T05:30:00Z")
    assert on_grid.status_code == 201, on_grid.json
    off_grid = _post_utc(client, world, "press", "2026-03-03T05:00:00Z", "2026-03-03T06:00:00Z")
    refused(off_grid, 422, "slot_alignment")
    # 20:00-22:00 in Kolkata crosses closing time.
    late = _post_utc(client, world, "press", "2026-03-03T14:30:00Z", "2026-03-03T16:30:00Z")
    refused(late, 422, "outside_opening_hours")


# --- blackouts -------------------------------------------------------------------------


def test_site_wide_blackout_refuses_every_resource_of_the_site_422_blackout(client, world, session):
    holiday = make_blackout(
        session,
        world.sites["seongsu"],
        seoul("2026-03-03 12:00"),
        seoul("2026-03-03 15:00"),
        reason="staff training",
    )
    for resource in ("printer", "room"):
        answer = book(client, world, "maker", resource, "2026-03-03 14:00", "2026-03-03 16:00")
        error = refused(answer, 422, "blackout")
        assert error["details"]["blackout_id"] == holiday.id
        assert "staff training" in error["message"]


def test_resource_blackout_refuses_only_that_resource(client, world, session):
    make_blackout(
        session,
        world.sites["seongsu"],
        seoul("2026-03-03 10:00"),
        seoul("2026-03-03 12:00"),
        resource=world.resources["laser"],
        reason="lens replacement",
    )
    laser = book(client, world, "maker", "laser", "2026-03-03 11:30", "2026-03-03 12:30")
    refused(laser, 422, "blackout")
    cnc = book(client, world, "maker", "cnc", "2026-03-03 11:30", "2026-03-03 12:30")
    assert cnc.status_code == 201, cnc.json


def test_booking_that_ends_where_a_blackout_begins_is_201(client, world, session):
    make_blackout(
        session, world.sites["seongsu"], seoul("2026-03-03 12:00"), seoul("2026-03-03 15:00")
    )
    before = book(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 12:00")
    assert before.status_code == 201, before.json
    after = book(client, world, "maker", "printer", "2026-03-03 15:00", "2026-03-03 16:00")
    assert after.status_code == 201, after.json


def test_blackout_at_another_site_does_not_refuse_bookings_here(client, world, session):
    make_blackout(
        session, world.sites["mullae"], seoul("2026-03-03 09:00"), seoul("2026-03-03 21:00")
    )
    here = book(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    assert here.status_code == 201, here.json
    there = book(client, world, "maker", "lathe", "2026-03-03 10:00", "2026-03-03 11:00")
    refused(there, 422, "blackout")


# --- buffers between bookings ----------------------------------------------------------


@pytest.fixture
def cnc_ten_to_eleven(client, world) -> int:
    answer = book(client, world, "maker", "cnc", "2026-03-03 10:00", "2026-03-03 11:00")
    assert answer.status_code == 201, answer.json
    return int(answer.json["id"])


def test_cnc_booking_starting_when_another_ends_is_409_naming_it(client, world, cnc_ten_to_eleven):
    answer = book(client, world, "other", "cnc", "2026-03-03 11:00", "2026-03-03 11:30")
    error = refused(answer, 409, "conflict")
    assert error["details"]["conflicting_reservation"]["id"] == cnc_ten_to_eleven


def test_cnc_booking_ending_when_another_starts_is_409_naming_it(client, world, cnc_ten_to_eleven):
    answer = book(client, world, "other", "cnc", "2026-03-03 09:30", "2026-03-03 10:00")
    error = refused(answer, 409, "conflict")
    assert error["details"]["conflicting_reservation"]["id"] == cnc_ten_to_eleven


def test_cnc_booking_after_the_buffer_is_201(client, world, cnc_ten_to_eleven):
    after = book(client, world, "other", "cnc", "2026-03-03 11:30", "2026-03-03 12:00")
    assert after.status_code == 201, after.json
    before = book(client, world, "other", "cnc", "2026-03-03 09:00", "2026-03-03 09:30")
    assert before.status_code == 201, before.json


def test_resource_without_buffer_takes_back_to_back_bookings(client, world):
    first = book(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    assert first.status_code == 201, first.json
    second = book(client, world, "other", "printer", "2026-03-03 11:00", "2026-03-03 12:00")
    assert second.status_code == 201, second.json


def test_overlapping_booking_is_409_naming_the_reservation_in_the_way(client, world):
    first = book(client, world, "maker", "laser", "2026-03-03 10:00", "2026-03-03 12:00")
    assert first.status_code == 201, first.json
    again = book(client, world, "maker", "laser", "2026-03-03 11:30", "2026-03-03 12:30")
    error = refused(again, 409, "conflict")
    assert error["details"]["conflicting_reservation"]["id"] == first.json["id"]


# --- lead time and the furthest day ahead ----------------------------------------------


def test_booking_in_the_past_is_422_lead_time(client, world):
    answer = book(client, world, "maker", "printer", "2026-02-28 10:00", "2026-02-28 11:00")
    refused(answer, 422, "lead_time")


def test_booking_that_started_earlier_today_is_422_lead_time(client, world, app):
    app.config["CLOCK"] = lambda: seoul("2026-03-02 10:10").astimezone(UTC)
    answer = book(client, world, "maker", "printer", "2026-03-02 10:00", "2026-03-02 11:00")
    refused(answer, 422, "lead_time")


def test_booking_that_starts_now_is_201(client, world):
    answer = book(client, world, "maker", "printer", "2026-03-02 09:00", "2026-03-02 10:00")
    assert answer.status_code == 201, answer.json


def test_booking_inside_the_lead_time_is_422_lead_time(client, world, session):
    world.resources["cnc"].lead_minutes = 120
    session.add(world.resources["cnc"])
    session.commit()
    early = book(client, world, "maker", "cnc", "2026-03-02 10:30", "2026-03-02 11:30")
    error = refused(early, 422, "lead_time")
    assert datetime.fromisoformat(error["details"]["earliest"]) == seoul("2026-03-02 11:00")
    in_time = book(client, world, "maker", "cnc", "2026-03-02 11:00", "2026-03-02 11:30")
    assert in_time.status_code == 201, in_time.json


def test_booking_past_the_furthest_day_ahead_is_422_too_far_ahead(client, world):
    # Sixty days from Monday 2 March 09:00 is Friday 1 May 09:00.
    late = book(client, world, "maker", "printer", "2026-05-01 10:00", "2026-05-01 11:00")
    refused(late, 422, "too_far_ahead")
    last_day = book(client, world, "maker", "printer", "2026-04-30 20:00", "2026-04-30 21:00")
    assert last_day.status_code == 201, last_day.json
