"""Booking rules about people: weekly quota, training, approval, booking on behalf, overrides.

The world's clock stands at Monday 2 March 2026, 09:00 in Seoul; Seongsu is open
Monday to Saturday 09:00-21:00 and allows 10 machine hours a week per maker.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from service.models import AuditLog, Training
from tests.factories import book, make_blackout, refused, seoul


def train(session: Session, world, name: str, category: str, expires_on: date | None) -> None:
    session.add(Training(account_id=world.id(name), category=category, expires_on=expires_on))
    session.commit()


# --- weekly quota ----------------------------------------------------------------------


@pytest.fixture
def ten_machine_hours(client, world) -> list[int]:
    """The maker's whole quota for the week of 2 March: 8 h of printer, 2 h of laser."""
    ids = []
    for resource, start, end in (
        ("printer", "2026-03-03 10:00", "2026-03-03 18:00"),
        ("laser", "2026-03-04 10:00", "2026-03-04 12:00"),
    ):
        answer = book(client, world, "maker", resource, start, end)
        assert answer.status_code == 201, answer.json
        ids.append(int(answer.json["id"]))
    return ids


def test_machine_hours_beyond_the_weekly_quota_are_422_quota_exceeded(
    client, world, ten_machine_hours
):
    answer = book(client, world, "maker", "cnc", "2026-03-05 10:00", "2026-03-05 10:30")
    error = refused(answer, 422, "quota_exceeded")
    assert error["details"] == {"quota_hours": 10, "held_hours": 10}


def test_cancelled_bookings_do_not_count_against_the_quota(client, world, ten_machine_hours):
    cancelled = client.delete(
        f"/api/v1/reservations/{ten_machine_hours[1]}", headers=world.headers("maker")
    )
    assert cancelled.status_code == 200, cancelled.json
    answer = book(client, world, "maker", "cnc", "2026-03-05 10:00", "2026-03-05 12:00")
    assert answer.status_code == 201, answer.json


def test_rooms_do_not_count_against_the_machine_quota(client, world):
    room = book(client, world, "maker", "room", "2026-03-03 10:00", "2026-03-03 13:00")
    assert room.status_code == 201, room.json
    for resource, start, end in (
        ("printer", "2026-03-04 10:00", "2026-03-04 18:00"),
        ("laser", "2026-03-05 10:00", "2026-03-05 12:00"),
    ):
        answer = book(client, world, "maker", resource, start, end)
        assert answer.status_code == 201, answer.json


def test_another_makers_hours_do_not_count_against_mine(client, world, ten_machine_hours):
    answer = book(client, world, "other", "cnc", "2026-03-05 10:00", "2026-03-05 12:00")
    assert answer.status_code == 201, answer.json


def test_quota_week_runs_monday_to_sunday_in_the_site_time_zone(client, world):
    for resource, start, end in (
        ("printer", "2026-03-03 10:00", "2026-03-03 18:00"),
        ("laser", "2026-03-04 10:00", "2026-03-04 11:30"),
    ):
        assert book(client, world, "maker", resource, start, end).status_code == 201
    same_week = book(client, world, "maker", "cnc", "2026-03-07 10:00", "2026-03-07 11:00")
    refused(same_week, 422, "quota_exceeded")
    # Monday 9 March 09:00 in Seoul is still Sunday 8 March in UTC: a new week all the same.
    next_week = book(client, world, "maker", "cnc", "2026-03-09 09:00", "2026-03-09 11:00")
    assert next_week.status_code == 201, next_week.json


def test_released_hours_count_only_up_to_the_release(client, world, app):
    made = book(client, world, "maker", "printer", "2026-03-02 09:00", "2026-03-02 17:00")
    assert made.status_code == 201, made.json
    app.config["CLOCK"] = lambda: seoul("2026-03-02 13:00").astimezone(UTC)
    released = client.post(
        f"/api/v1/reservations/{made.json['id']}/release", headers=world.headers("maker")
    )
    assert released.status_code == 200, released.json
    # 4 h used on Monday + 6 h = the 10 h quota; one more half hour is too much.
    fits = book(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 16:00")
    assert fits.status_code == 201, fits.json
    over = book(client, world, "maker", "laser", "2026-03-04 10:00", "2026-03-04 10:30")
    refused(over, 422, "quota_exceeded")


# --- training --------------------------------------------------------------------------


def test_trained_maker_may_book_the_laser(client, world):
    answer = book(client, world, "maker", "laser", "2026-03-03 10:00", "2026-03-03 11:00")
    assert answer.status_code == 201, answer.json


def test_untrained_maker_booking_the_laser_is_422_training_required(client, world):
    answer = book(client, world, "other", "laser", "2026-03-03 10:00", "2026-03-03 11:00")
    error = refused(answer, 422, "training_required")
    assert error["details"] == {"category": "laser_cutter"}


def test_expired_training_is_422_training_required(client, world, session):
    train(session, world, "other", "laser_cutter", date(2026, 3, 1))
    answer = book(client, world, "other", "laser", "2026-03-03 10:00", "2026-03-03 11:00")
    refused(answer, 422, "training_required")


def test_training_is_valid_through_its_expiry_day_and_not_after(client, world, session):
    train(session, world, "other", "laser_cutter", date(2026, 3, 3))
    last_day = book(client, world, "other", "laser", "2026-03-03 10:00", "2026-03-03 11:00")
    assert last_day.status_code == 201, last_day.json
    day_after = book(client, world, "other", "laser", "2026-03-04 10:00", "2026-03-04 11:00")
    refused(day_after, 422, "training_required")


def test_training_for_another_kind_of_machine_does_not_qualify(client, world, session):
    train(session, world, "other", "cnc_router", None)
    answer = book(client, world, "other", "laser", "2026-03-03 10:00", "2026-03-03 11:00")
    refused(answer, 422, "training_required")


# --- approval --------------------------------------------------------------------------


@pytest.fixture
def pending(client, world) -> int:
    answer = book(client, world, "maker", "embroidery", "2026-03-03 10:00", "2026-03-03 11:00")
    assert answer.status_code == 201, answer.json
    assert answer.json["status"] == "pending"
    return int(answer.json["id"])


def _decide(client, world, who: str, reservation_id: int, verb: str):
    return client.post(f"/api/v1/reservations/{reservation_id}/{verb}", headers=world.headers(who))


def test_operator_approving_a_pending_booking_confirms_it(client, world, pending):
    answer = _decide(client, world, "operator", pending, "approve")
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "confirmed"


def test_operator_declining_a_pending_booking_cancels_it_and_frees_the_slot(client, world, pending):
    answer = _decide(client, world, "operator", pending, "decline")
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "cancelled"
    again = book(client, world, "other", "embroidery", "2026-03-03 10:00", "2026-03-03 11:00")
    assert again.status_code == 201, again.json


def test_pending_booking_holds_its_slot(client, world, pending):
    answer = book(client, world, "other", "embroidery", "2026-03-03 10:30", "2026-03-03 11:30")
    error = refused(answer, 409, "conflict")
    conflicting = error["details"]["conflicting_reservation"]
    assert (conflicting["id"], conflicting["status"]) == (pending, "pending")
    assert datetime.fromisoformat(conflicting["start"]) == seoul("2026-03-03 10:00")
    assert datetime.fromisoformat(conflicting["end"]) == seoul("2026-03-03 11:00")


@pytest.mark.parametrize("verb", ["approve", "decline"])
def test_maker_cannot_decide_on_their_own_pending_booking_403(client, world, pending, verb):
    refused(_decide(client, world, "maker", pending, verb), 403, "forbidden")
    still = client.get(f"/api/v1/reservations/{pending}", headers=world.headers("maker"))
    assert still.json["status"] == "pending"


def test_operator_of_another_site_cannot_approve_404(client, world, pending):
    refused(_decide(client, world, "mullae_operator", pending, "approve"), 404, "not_found")


def test_approving_a_confirmed_booking_is_409_invalid_state(client, world, pending):
    assert _decide(client, world, "operator", pending, "approve").status_code == 200
    again = _decide(client, world, "operator", pending, "approve")
    refused(again, 409, "invalid_state")


def test_operator_booking_an_approval_resource_for_a_maker_is_confirmed_at_once(client, world):
    answer = book(
        client,
        world,
        "operator",
        "embroidery",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        account_id=world.id("maker"),
    )
    assert answer.status_code == 201, answer.json
    assert answer.json["status"] == "confirmed"


# --- booking on behalf and overriding --------------------------------------------------


def test_operator_may_book_on_behalf_of_a_maker(client, world):
    answer = book(
        client,
        world,
        "operator",
        "laser",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        account_id=world.id("maker"),
    )
    assert answer.status_code == 201, answer.json
    assert answer.json["account_id"] == world.id("maker")
    assert answer.json["override_reason"] == ""
    mine = client.get("/api/v1/reservations?mine=1", headers=world.headers("maker"))
    assert [r["id"] for r in mine.json] == [answer.json["id"]]


def test_booking_on_behalf_applies_the_rules_to_the_maker(client, world):
    answer = book(
        client,
        world,
        "operator",
        "laser",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        account_id=world.id("other"),
    )
    refused(answer, 422, "training_required")


# (resource, start, end, for whom, the rule the booking breaks)
BROKEN = {
    "closing time": (
        "laser",
        "2026-03-03 20:30",
        "2026-03-03 21:30",
        "maker",
        "outside_opening_hours",
    ),
    "sunday": ("printer", "2026-03-08 10:00", "2026-03-08 11:00", "maker", "outside_opening_hours"),
    "training": ("laser", "2026-03-03 10:00", "2026-03-03 11:00", "other", "training_required"),
    "grid": ("printer", "2026-03-03 10:30", "2026-03-03 11:30", "maker", "slot_alignment"),
    "duration": ("printer", "2026-03-03 09:00", "2026-03-03 18:00", "maker", "duration"),
    "past": ("printer", "2026-02-28 10:00", "2026-02-28 11:00", "maker", "lead_time"),
    "far ahead": ("printer", "2026-05-04 10:00", "2026-05-04 11:00", "maker", "too_far_ahead"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_operator_override_waives_a_rule_and_records_the_reason(client, world, engine, case):
    resource, start, end, whom, rule = BROKEN[case]
    plain = book(client, world, "operator", resource, start, end, account_id=world.id(whom))
    refused(plain, 422, rule)
    answer = book(
        client,
        world,
        "operator",
        resource,
        start,
        end,
        account_id=world.id(whom),
        override_reason="urgent repair job for a client",
    )
    assert answer.status_code == 201, answer.json
    assert answer.json["override_reason"] == "urgent repair job for a client"
    read = client.get(f"/api/v1/reservations/{answer.json['id']}", headers=world.headers(whom))
    assert read.json["override_reason"] == "urgent repair job for a client"
    with Session(engine) as fresh:
        entry = fresh.exec(
            select(AuditLog).where(AuditLog.subject == f"reservation:{answer.json['id']}")
        ).one()
    assert entry.action == "reservation.create"
    assert entry.actor_id == world.id("operator")
    assert entry.detail["override_reason"] == "urgent repair job for a client"


def test_operator_override_blackout_is_201(client, world, session):
    make_blackout(
        session, world.sites["seongsu"], seoul("2026-03-03 09:00"), seoul("2026-03-03 21:00")
    )
    answer = book(
        client,
        world,
        "operator",
        "printer",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        account_id=world.id("maker"),
        override_reason="holiday opening for a delivery",
    )
    assert answer.status_code == 201, answer.json


def test_override_never_waives_a_clash_409(client, world):
    first = book(client, world, "maker", "printer", "2026-03-03 10:00", "2026-03-03 12:00")
    assert first.status_code == 201, first.json
    answer = book(
        client,
        world,
        "operator",
        "printer",
        "2026-03-03 11:00",
        "2026-03-03 12:00",
        account_id=world.id("other"),
        override_reason="must run today",
    )
    error = refused(answer, 409, "conflict")
    assert error["details"]["conflicting_reservation"]["id"] == first.json["id"]


def test_maker_cannot_override_the_rules_403(client, world):
    answer = book(
        client,
        world,
        "maker",
        "laser",
        "2026-03-03 20:30",
        "2026-03-03 21:30",
        override_reason="just this once",
    )
    refused(answer, 403, "forbidden")


def test_maker_cannot_book_on_behalf_of_another_maker_403(client, world):
    answer = book(
        client,
        world,
        "maker",
        "printer",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        account_id=world.id("other"),
    )
    refused(answer, 403, "forbidden")


def test_operator_of_another_site_cannot_book_on_behalf_here_403(client, world):
    answer = book(
        client,
        world,
        "mullae_operator",
        "printer",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        account_id=world.id("maker"),
    )
    refused(answer, 403, "forbidden")


def test_operator_of_another_site_cannot_override_here_403(client, world):
    answer = book(
        client,
        world,
        "mullae_operator",
        "printer",
        "2026-03-08 10:00",
        "2026-03-08 11:00",
        override_reason="covering for a colleague",
    )
    refused(answer, 403, "forbidden")


def test_booking_on_behalf_of_an_unknown_account_is_404(client, world):
    answer = book(
        client,
        world,
        "operator",
        "printer",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        account_id=999_999,
    )
    refused(answer, 404, "not_found")
