"""Per-booking rules at their edges: furthest day, lead time, training expiry, grid, length."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from service.errors import RuleViolation
from service.rules.policy import (
    check_duration,
    check_grid,
    check_range,
    check_training,
    check_window,
)
from tests.conftest import CURRENT_TIME
from tests.factories import make_training, seoul

NOW = CURRENT_TIME  # Monday 2 March 2026, 09:00 in Seoul


def code_of(call, **kw) -> str:
    with pytest.raises(RuleViolation) as caught:
        call(**kw)
    return caught.value.code


def test_a_booking_ending_exactly_at_the_furthest_moment_is_allowed(world):
    laser = world.resources["laser"]  # 60 days ahead
    end = NOW + timedelta(days=60)
    check_window(resource=laser, start=end - timedelta(hours=1), end=end, now=NOW)


def test_a_booking_ending_a_second_past_the_furthest_moment_is_too_far_ahead(world):
    laser = world.resources["laser"]
    end = NOW + timedelta(days=60, seconds=1)
    with pytest.raises(RuleViolation) as caught:
        check_window(resource=laser, start=end - timedelta(hours=1), end=end, now=NOW)
    assert caught.value.code == "too_far_ahead"
    assert caught.value.details == {"latest": (NOW + timedelta(days=60)).isoformat()}
    assert "60 days ahead" in caught.value.message


def test_a_booking_starting_exactly_at_the_lead_time_is_allowed_and_a_second_earlier_is_not(
    world,
):
    laser = world.resources["laser"]
    laser.lead_minutes = 120
    earliest = NOW + timedelta(minutes=120)
    check_window(resource=laser, start=earliest, end=earliest + timedelta(hours=1), now=NOW)
    with pytest.raises(RuleViolation) as caught:
        check_window(
            resource=laser,
            start=earliest - timedelta(seconds=1),
            end=earliest + timedelta(hours=1),
            now=NOW,
        )
    assert caught.value.code == "lead_time"
    assert caught.value.details == {"earliest": earliest.isoformat()}
    assert "120 minutes ahead" in caught.value.message


def test_a_start_already_chosen_is_not_held_to_the_lead_time(world):
    laser = world.resources["laser"]
    start = NOW - timedelta(hours=1)
    check_window(
        resource=laser, start=start, end=NOW + timedelta(hours=1), now=NOW, new_start=False
    )


def test_a_start_already_chosen_is_still_held_to_the_furthest_day(world):
    laser = world.resources["laser"]
    end = NOW + timedelta(days=61)
    assert (
        code_of(check_window, resource=laser, start=NOW, end=end, now=NOW, new_start=False)
        == "too_far_ahead"
    )


def _training_check(session, world, end, who="maker", resource="laser"):
    check_training(
        session=session,
        resource=world.resources[resource],
        site=world.sites["seongsu"],
        account_id=world.id(who),
        end=end,
    )


def test_training_expiry_is_judged_by_the_site_date_of_the_booking_end(session, world):
    make_training(session, world.accounts["other"], "laser_cutter", date(2026, 3, 10))
    session.commit()
    # 23:00 on 10 March in Seoul (14:00 UTC) is still the expiry day.
    _training_check(session, world, seoul("2026-03-10 23:00"), who="other")
    # 01:00 on 11 March in Seoul is 16:00 on 10 March in UTC, but past expiry here.
    with pytest.raises(RuleViolation) as caught:
        _training_check(session, world, seoul("2026-03-11 01:00"), who="other")
    assert caught.value.code == "training_required"
    assert caught.value.details == {"category": "laser_cutter"}
    assert "laser_cutter" in caught.value.message


def test_training_without_expiry_is_valid_for_good(session, world):
    make_training(session, world.accounts["other"], "laser_cutter", None)
    session.commit()
    _training_check(session, world, seoul("2030-01-01 10:00"), who="other")


def test_training_of_someone_else_does_not_qualify(session, world):
    with pytest.raises(RuleViolation):
        _training_check(session, world, seoul("2026-03-03 10:00"), who="other")


def test_a_resource_without_required_training_needs_none(session, world):
    _training_check(session, world, seoul("2026-03-03 10:00"), who="other", resource="cnc")


def test_training_for_another_kind_of_machine_does_not_qualify(session, world):
    make_training(session, world.accounts["other"], "cnc_router", None)
    session.commit()
    with pytest.raises(RuleViolation):
        _training_check(session, world, seoul("2026-03-03 10:00"), who="other")


def test_a_refusal_names_the_resource_when_it_has_no_category(session, world):
    laser = world.resources["laser"]
    laser.category = ""
    with pytest.raises(RuleViolation) as caught:
        _training_check(session, world, seoul("2026-03-03 10:00"), who="other")
    assert "laser-1" in caught.value.message


def test_end_equal_to_start_is_an_invalid_range():
    with pytest.raises(RuleViolation) as caught:
        check_range(NOW, NOW)
    assert caught.value.message == "end must be after start"
    assert code_of(check_range, start=NOW, end=NOW) == "invalid_range"
    assert code_of(check_range, start=NOW, end=NOW - timedelta(minutes=1)) == "invalid_range"
    check_range(NOW, NOW + timedelta(seconds=1))


def test_duration_limits_are_inclusive_and_named_in_the_refusal(world):
    laser = world.resources["laser"]  # 30 to 240 minutes
    check_duration(resource=laser, start=NOW, end=NOW + timedelta(minutes=30))
    check_duration(resource=laser, start=NOW, end=NOW + timedelta(minutes=240))
    for minutes in (29, 241):
        with pytest.raises(RuleViolation) as caught:
            check_duration(resource=laser, start=NOW, end=NOW + timedelta(minutes=minutes))
        assert caught.value.code == "duration"
        assert caught.value.details == {"min_minutes": 30, "max_minutes": 240}
        assert "30 to 240 minutes" in caught.value.message


def test_a_walk_in_start_is_off_the_grid_but_its_end_is_not(world):
    laser, site = world.resources["laser"], world.sites["seongsu"]
    start, end = seoul("2026-03-03 10:07"), seoul("2026-03-03 11:00")
    check_grid(resource=laser, site=site, start=start, end=end, start_on_grid=False)
    with pytest.raises(RuleViolation) as caught:
        check_grid(resource=laser, site=site, start=start, end=end)
    assert caught.value.code == "slot_alignment"
    assert caught.value.details == {"slot_minutes": 30}
    assert caught.value.message.startswith("start must be on a 30-minute")
    with pytest.raises(RuleViolation) as caught:
        check_grid(
            resource=laser,
            site=site,
            start=start,
            end=seoul("2026-03-03 11:10"),
            start_on_grid=False,
        )
    assert caught.value.message.startswith("end must be on a 30-minute")


def test_an_end_off_the_grid_is_named_as_the_end(world):
    laser, site = world.resources["laser"], world.sites["seongsu"]
    with pytest.raises(RuleViolation) as caught:
        check_grid(
            resource=laser,
            site=site,
            start=seoul("2026-03-03 10:00"),
            end=seoul("2026-03-03 10:45"),
        )
    assert caught.value.message == "end must be on a 30-minute slot boundary"


def test_two_hour_slots_count_from_local_midnight_not_from_utc(world):
    printer, site = world.resources["printer"], world.sites["seongsu"]
    printer.slot_minutes = 120
    # 10:00 Seoul is 01:00 UTC: on a two-hour grid of Seoul's day, off one of UTC's.
    check_grid(
        resource=printer, site=site, start=seoul("2026-03-03 10:00"), end=seoul("2026-03-03 12:00")
    )
    with pytest.raises(RuleViolation):
        check_grid(
            resource=printer,
            site=site,
            start=seoul("2026-03-03 11:00"),
            end=seoul("2026-03-03 13:00"),
        )
