"""Moving, cancelling, checking in, releasing and extending a reservation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, col, select

from service.models import AuditLog
from service.rules.intervals import Interval
from tests.factories import book, refused, seoul


def url(reservation_id: int, action: str = "") -> str:
    return f"/api/v1/reservations/{reservation_id}" + (f"/{action}" if action else "")


def move(client, world, who: str, reservation_id: int, start: str, end: str, **extra):
    return client.patch(
        url(reservation_id),
        headers=world.headers(who),
        json={"start": seoul(start).isoformat(), "end": seoul(end).isoformat(), **extra},
    )


def act(client, world, who: str, reservation_id: int, action: str, **body):
    return client.post(url(reservation_id, action), headers=world.headers(who), json=body or None)


def extend(client, world, who: str, reservation_id: int, end: str):
    return act(client, world, who, reservation_id, "extend", end=seoul(end).isoformat())


def free(client, world, resource: str, start: str, end: str) -> list[Interval]:
    answer = client.get(
        f"/api/v1/resources/{world.id(resource)}/availability",
        headers=world.headers("maker"),
        query_string={"from": seoul(start).isoformat(), "to": seoul(end).isoformat()},
    )
    assert answer.status_code == 200, answer.json
    return [
        Interval(datetime.fromisoformat(f["start"]), datetime.fromisoformat(f["end"]))
        for f in answer.json["free"]
    ]


def spans(*pairs: tuple[str, str]) -> list[Interval]:
    return [Interval(seoul(a), seoul(b)) for a, b in pairs]


def booked(client, world, who: str, resource: str, start: str, end: str) -> int:
    answer = book(client, world, who, resource, start, end)
    assert answer.status_code == 201, answer.json
    return int(answer.json["id"])


def at(app, moment: str) -> None:
    """Set the API's clock to a Seoul wall-clock time."""
    app.config["CLOCK"] = lambda: seoul(moment).astimezone(UTC)


# --- moving ----------------------------------------------------------------------------


def test_moving_to_a_free_slot_is_200_and_availability_follows(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 12:00")
    answer = move(client, world, "maker", mine, "2026-03-03 14:00", "2026-03-03 16:00")
    assert answer.status_code == 200, answer.json
    assert datetime.fromisoformat(answer.json["start"]) == seoul("2026-03-03 14:00")
    assert datetime.fromisoformat(answer.json["end"]) == seoul("2026-03-03 16:00")
    assert free(client, world, "printer", "2026-03-03 09:00", "2026-03-03 21:00") == spans(
        ("2026-03-03 09:00", "2026-03-03 14:00"), ("2026-03-03 16:00", "2026-03-03 21:00")
    )
    taken = book(client, world, "other", "printer", "2026-03-03 15:00", "2026-03-03 16:00")
    refused(taken, 409, "conflict")
    freed = book(client, world, "other", "printer", "2026-03-03 10:00", "2026-03-03 12:00")
    assert freed.status_code == 201, freed.json


def test_moving_into_another_booking_is_409_naming_it(client, world):
    theirs = booked(client, world, "other", "printer", "2026-03-03 14:00", "2026-03-03 16:00")
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 12:00")
    answer = move(client, world, "maker", mine, "2026-03-03 13:00", "2026-03-03 15:00")
    error = refused(answer, 409, "conflict")
    assert error["details"]["conflicting_reservation"]["id"] == theirs
    unchanged = client.get(url(mine), headers=world.headers("maker"))
    assert datetime.fromisoformat(unchanged.json["start"]) == seoul("2026-03-03 10:00")


def test_moving_next_to_a_cnc_booking_inside_its_buffer_is_409(client, world):
    theirs = booked(client, world, "other", "cnc", "2026-03-03 14:00", "2026-03-03 15:00")
    mine = booked(client, world, "maker", "cnc", "2026-03-03 10:00", "2026-03-03 11:00")
    answer = move(client, world, "maker", mine, "2026-03-03 15:00", "2026-03-03 16:00")
    error = refused(answer, 409, "conflict")
    assert error["details"]["conflicting_reservation"]["id"] == theirs


def test_moving_outside_opening_hours_is_422(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 12:00")
    answer = move(client, world, "maker", mine, "2026-03-03 20:00", "2026-03-03 22:00")
    refused(answer, 422, "outside_opening_hours")


def test_moving_to_sunday_is_422(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 12:00")
    answer = move(client, world, "maker", mine, "2026-03-08 10:00", "2026-03-08 12:00")
    refused(answer, 422, "outside_opening_hours")


def test_moving_off_the_slot_grid_is_422(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 12:00")
    answer = move(client, world, "maker", mine, "2026-03-03 10:30", "2026-03-03 12:30")
    refused(answer, 422, "slot_alignment")


def test_moving_into_the_past_is_422_lead_time(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 12:00")
    answer = move(client, world, "maker", mine, "2026-02-27 10:00", "2026-02-27 12:00")
    refused(answer, 422, "lead_time")


def test_moving_over_part_of_its_own_time_is_200(client, world):
    mine = booked(client, world, "maker", "cnc", "2026-03-03 10:00", "2026-03-03 11:00")
    answer = move(client, world, "maker", mine, "2026-03-03 10:30", "2026-03-03 11:30")
    assert answer.status_code == 200, answer.json


def test_moving_counts_the_quota_without_the_old_time(client, world):
    booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 18:00")
    laser = booked(client, world, "maker", "laser", "2026-03-04 10:00", "2026-03-04 12:00")
    same_length = move(client, world, "maker", laser, "2026-03-05 14:00", "2026-03-05 16:00")
    assert same_length.status_code == 200, same_length.json
    longer = move(client, world, "maker", laser, "2026-03-05 14:00", "2026-03-05 16:30")
    error = refused(longer, 422, "quota_exceeded")
    assert error["details"]["held_hours"] == 8


def test_moving_a_cancelled_reservation_is_409_invalid_state(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 12:00")
    assert client.delete(url(mine), headers=world.headers("maker")).status_code == 200
    answer = move(client, world, "maker", mine, "2026-03-03 14:00", "2026-03-03 16:00")
    refused(answer, 409, "invalid_state")


def test_maker_cannot_move_with_an_override_403(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 12:00")
    answer = move(
        client,
        world,
        "maker",
        mine,
        "2026-03-03 20:00",
        "2026-03-03 22:00",
        override_reason="late delivery",
    )
    refused(answer, 403, "forbidden")


def test_operator_may_move_past_closing_with_an_override_and_it_is_audited(client, world, engine):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 12:00")
    answer = move(
        client,
        world,
        "operator",
        mine,
        "2026-03-03 20:00",
        "2026-03-03 22:00",
        override_reason="late delivery of parts",
    )
    assert answer.status_code == 200, answer.json
    with Session(engine) as fresh:
        entry = fresh.exec(
            select(AuditLog).where(
                AuditLog.subject == f"reservation:{mine}", AuditLog.action == "reservation.update"
            )
        ).one()
    assert entry.actor_id == world.id("operator")
    assert entry.detail["override_reason"] == "late delivery of parts"


@pytest.fixture
def approved(client, world) -> int:
    mine = booked(client, world, "maker", "embroidery", "2026-03-03 10:00", "2026-03-03 11:00")
    assert act(client, world, "operator", mine, "approve").json["status"] == "confirmed"
    return mine


def test_maker_moving_an_approved_booking_needs_approval_again(client, world, approved):
    answer = move(client, world, "maker", approved, "2026-03-04 10:00", "2026-03-04 11:00")
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "pending"


def test_maker_changing_only_the_note_keeps_the_approval(client, world, approved):
    answer = client.patch(
        url(approved), headers=world.headers("maker"), json={"note": "red thread"}
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "confirmed"


def test_operator_moving_an_approved_booking_keeps_it_confirmed(client, world, approved):
    answer = move(client, world, "operator", approved, "2026-03-04 10:00", "2026-03-04 11:00")
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "confirmed"


# --- cancelling ------------------------------------------------------------------------


def test_cancelling_frees_the_slot_for_others(client, world):
    mine = booked(client, world, "maker", "cnc", "2026-03-03 10:00", "2026-03-03 11:00")
    answer = client.delete(url(mine), headers=world.headers("maker"))
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "cancelled"
    assert free(client, world, "cnc", "2026-03-03 09:00", "2026-03-03 21:00") == spans(
        ("2026-03-03 09:00", "2026-03-03 21:00")
    )
    theirs = book(client, world, "other", "cnc", "2026-03-03 10:30", "2026-03-03 11:30")
    assert theirs.status_code == 201, theirs.json


def test_cancelling_twice_is_409_invalid_state(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 12:00")
    assert client.delete(url(mine), headers=world.headers("maker")).status_code == 200
    refused(client.delete(url(mine), headers=world.headers("maker")), 409, "invalid_state")


def test_cancelling_is_audited(client, world, engine):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 12:00")
    assert client.delete(url(mine), headers=world.headers("maker")).status_code == 200
    with Session(engine) as fresh:
        actions = fresh.exec(
            select(AuditLog.action)
            .where(AuditLog.subject == f"reservation:{mine}")
            .order_by(col(AuditLog.id))
        ).all()
    assert actions == ["reservation.create", "reservation.cancel"]


# --- check-in --------------------------------------------------------------------------


def test_check_in_at_the_start_makes_the_reservation_active(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-02 09:00", "2026-03-02 11:00")
    answer = act(client, world, "maker", mine, "check-in")
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "active"
    assert datetime.fromisoformat(answer.json["checked_in_at"]) == seoul("2026-03-02 09:00")


@pytest.mark.parametrize("moment", ["2026-03-02 09:45", "2026-03-02 10:59"])
def test_check_in_from_fifteen_minutes_before_start_until_the_end_is_200(
    client, world, app, moment
):
    mine = booked(client, world, "maker", "printer", "2026-03-02 10:00", "2026-03-02 11:00")
    at(app, moment)
    answer = act(client, world, "maker", mine, "check-in")
    assert answer.status_code == 200, answer.json


@pytest.mark.parametrize("moment", ["2026-03-02 09:44", "2026-03-02 11:00"])
def test_check_in_earlier_than_fifteen_minutes_or_at_the_end_is_422(client, world, app, moment):
    mine = booked(client, world, "maker", "printer", "2026-03-02 10:00", "2026-03-02 11:00")
    at(app, moment)
    answer = act(client, world, "maker", mine, "check-in")
    refused(answer, 422, "check_in_window")
    still = client.get(url(mine), headers=world.headers("maker"))
    assert still.json["status"] == "confirmed"


def test_check_in_of_a_pending_booking_is_409_invalid_state(client, world):
    mine = booked(client, world, "maker", "embroidery", "2026-03-02 09:00", "2026-03-02 10:00")
    refused(act(client, world, "maker", mine, "check-in"), 409, "invalid_state")


def test_checking_in_twice_is_409_invalid_state(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-02 09:00", "2026-03-02 10:00")
    assert act(client, world, "maker", mine, "check-in").status_code == 200
    refused(act(client, world, "maker", mine, "check-in"), 409, "invalid_state")


# --- release ---------------------------------------------------------------------------


def test_release_ends_the_reservation_now_and_frees_the_rest(client, world, app):
    mine = booked(client, world, "maker", "printer", "2026-03-02 09:00", "2026-03-02 12:00")
    assert act(client, world, "maker", mine, "check-in").status_code == 200
    at(app, "2026-03-02 10:00")
    answer = act(client, world, "maker", mine, "release")
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "completed"
    assert datetime.fromisoformat(answer.json["end"]) == seoul("2026-03-02 10:00")
    assert datetime.fromisoformat(answer.json["released_at"]) == seoul("2026-03-02 10:00")
    assert free(client, world, "printer", "2026-03-02 09:00", "2026-03-02 13:00") == spans(
        ("2026-03-02 10:00", "2026-03-02 13:00")
    )
    theirs = book(client, world, "other", "printer", "2026-03-02 10:00", "2026-03-02 11:00")
    assert theirs.status_code == 201, theirs.json


def test_released_machine_keeps_its_buffer_before_the_next_booking(client, world, app):
    mine = booked(client, world, "maker", "cnc", "2026-03-02 09:00", "2026-03-02 11:00")
    at(app, "2026-03-02 10:00")
    assert act(client, world, "maker", mine, "release").status_code == 200
    assert free(client, world, "cnc", "2026-03-02 09:00", "2026-03-02 12:00") == spans(
        ("2026-03-02 10:30", "2026-03-02 12:00")
    )
    too_soon = book(client, world, "other", "cnc", "2026-03-02 10:00", "2026-03-02 10:30")
    error = refused(too_soon, 409, "conflict")
    assert error["details"]["conflicting_reservation"]["id"] == mine
    after_buffer = book(client, world, "other", "cnc", "2026-03-02 10:30", "2026-03-02 11:00")
    assert after_buffer.status_code == 201, after_buffer.json


def test_release_before_the_start_is_409_not_started(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-02 10:00", "2026-03-02 12:00")
    refused(act(client, world, "maker", mine, "release"), 409, "not_started")


# --- extend ----------------------------------------------------------------------------


def test_extending_into_free_time_is_200(client, world, app):
    mine = booked(client, world, "maker", "printer", "2026-03-02 09:00", "2026-03-02 10:00")
    assert act(client, world, "maker", mine, "check-in").status_code == 200
    at(app, "2026-03-02 09:40")
    answer = extend(client, world, "maker", mine, "2026-03-02 11:00")
    assert answer.status_code == 200, answer.json
    assert datetime.fromisoformat(answer.json["start"]) == seoul("2026-03-02 09:00")
    assert datetime.fromisoformat(answer.json["end"]) == seoul("2026-03-02 11:00")
    assert answer.json["status"] == "active"
    assert free(client, world, "printer", "2026-03-02 09:00", "2026-03-02 12:00") == spans(
        ("2026-03-02 11:00", "2026-03-02 12:00")
    )


def test_extending_into_a_taken_slot_is_409_naming_it(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    theirs = booked(client, world, "other", "printer", "2026-03-03 12:00", "2026-03-03 13:00")
    error = refused(extend(client, world, "maker", mine, "2026-03-03 13:00"), 409, "conflict")
    assert error["details"]["conflicting_reservation"]["id"] == theirs
    up_to_it = extend(client, world, "maker", mine, "2026-03-03 12:00")
    assert up_to_it.status_code == 200, up_to_it.json


def test_extending_into_a_cnc_buffer_is_409(client, world):
    mine = booked(client, world, "maker", "cnc", "2026-03-03 10:00", "2026-03-03 11:00")
    theirs = booked(client, world, "other", "cnc", "2026-03-03 12:00", "2026-03-03 13:00")
    error = refused(extend(client, world, "maker", mine, "2026-03-03 12:00"), 409, "conflict")
    assert error["details"]["conflicting_reservation"]["id"] == theirs
    assert extend(client, world, "maker", mine, "2026-03-03 11:30").status_code == 200


def test_extending_past_closing_time_is_422(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-03 19:00", "2026-03-03 20:00")
    answer = extend(client, world, "maker", mine, "2026-03-03 22:00")
    refused(answer, 422, "outside_opening_hours")


def test_extending_beyond_the_longest_booking_is_422_duration(client, world):
    mine = booked(client, world, "maker", "laser", "2026-03-03 10:00", "2026-03-03 13:00")
    answer = extend(client, world, "maker", mine, "2026-03-03 14:30")
    refused(answer, 422, "duration")


def test_extending_to_an_earlier_end_is_422_invalid_range(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 12:00")
    answer = extend(client, world, "maker", mine, "2026-03-03 11:00")
    refused(answer, 422, "invalid_range")


def test_extending_a_finished_reservation_is_409_invalid_state(client, world, app):
    mine = booked(client, world, "maker", "printer", "2026-03-02 09:00", "2026-03-02 10:00")
    at(app, "2026-03-02 10:00")
    answer = extend(client, world, "maker", mine, "2026-03-02 11:00")
    refused(answer, 409, "invalid_state")


def test_another_maker_cannot_extend_my_reservation(client, world):
    mine = booked(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 11:00")
    refused(extend(client, world, "other", mine, "2026-03-03 12:00"), 404, "not_found")
