"""Extending a booking that needs approval sends it back for approval, as moving it does."""

from __future__ import annotations

from datetime import datetime

import pytest

from service.models import Reservation, ReservationStatus
from tests.factories import book, seoul
from tests.pages import csrf_token, login


def booked(client, world, who: str, resource: str, start: str, end: str) -> int:
    answer = book(client, world, who, resource, start, end)
    assert answer.status_code == 201, answer.json
    return int(answer.json["id"])


def act(client, world, who: str, reservation_id: int, action: str, **body):
    return client.post(
        f"/api/v1/reservations/{reservation_id}/{action}",
        headers=world.headers(who),
        json=body or None,
    )


@pytest.fixture
def approved(client, world) -> int:
    mine = booked(client, world, "maker", "embroidery", "2026-03-03 10:00", "2026-03-03 11:00")
    assert act(client, world, "operator", mine, "approve").json["status"] == "confirmed"
    return mine


def test_maker_extending_an_approved_booking_needs_approval_again(client, world, approved):
    answer = act(
        client, world, "maker", approved, "extend", end=seoul("2026-03-03 12:00").isoformat()
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "pending"
    assert datetime.fromisoformat(answer.json["end"]) == seoul("2026-03-03 12:00")


def test_operator_extending_an_approved_booking_keeps_it_confirmed(client, world, approved):
    answer = act(
        client, world, "operator", approved, "extend", end=seoul("2026-03-03 12:00").isoformat()
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "confirmed"


def test_extending_a_booking_that_needs_no_approval_keeps_it_confirmed(client, world):
    mine = booked(client, world, "maker", "cnc", "2026-03-03 10:00", "2026-03-03 11:00")
    answer = act(client, world, "maker", mine, "extend", end=seoul("2026-03-03 12:00").isoformat())
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "confirmed"


def test_extending_on_the_page_needs_approval_again(client, world, approved, session):
    login(client)
    answer = client.post(
        f"/me/reservations/{approved}/extend",
        data={"end": "12:00", "csrf_token": csrf_token(client)},
    )
    assert answer.status_code in (302, 303), answer.get_data(as_text=True)
    session.expire_all()
    reservation = session.get(Reservation, approved)
    assert reservation.status == ReservationStatus.pending
    assert reservation.end_at == seoul("2026-03-03 12:00")


def test_maker_extending_a_session_in_use_is_refused_not_unconfirmed(client, world, app):
    mine = booked(client, world, "maker", "embroidery", "2026-03-02 09:00", "2026-03-02 10:00")
    assert act(client, world, "operator", mine, "approve").json["status"] == "confirmed"
    assert act(client, world, "maker", mine, "check-in").status_code == 200
    later = seoul("2026-03-02 11:00").isoformat()
    answer = act(client, world, "maker", mine, "extend", end=later)
    assert answer.status_code == 422, answer.json
    assert answer.json["error"]["code"] == "approval_required"
    still = client.get(f"/api/v1/reservations/{mine}", headers=world.headers("maker")).json
    assert still["status"] == "active"
    assert datetime.fromisoformat(still["end"]) == seoul("2026-03-02 10:00")
    by_operator = act(client, world, "operator", mine, "extend", end=later)
    assert by_operator.status_code == 200, by_operator.json
    assert by_operator.json["status"] == "active"
