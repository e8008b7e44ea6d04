"""Check-in from telemetry, no-shows and rooms: the scheduler's attendance pass."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from scheduler import jobs
from service.models import Alert, AlertKind, AuditLog, Reservation, ReservationStatus, UsageSession
from tests.conftest import CURRENT_TIME
from tests.machines import add_device, reserve, scheduler_settings

T0 = CURRENT_TIME  # 09:00 in Seoul


def _pass(db_url, engine, now) -> None:
    jobs.enforce_slots(engine=engine, now=now, settings=scheduler_settings(db_url))


def _status(engine, reservation: Reservation) -> ReservationStatus:
    with Session(engine) as fresh:
        found = fresh.get(Reservation, reservation.id)
        assert found is not None
        return found.status


def test_a_reservation_not_checked_in_becomes_a_no_show_and_frees_the_slot(
    db_url, engine, session, world, client
):
    laser = world.resources["laser"]
    booked = reserve(session, laser, world.id("maker"), T0)

    def free_now() -> list[dict]:
        answer = client.get(
            f"/api/v1/resources/{laser.id}/availability",
            query_string={"from": T0.isoformat(), "to": (T0 + timedelta(hours=1)).isoformat()},
            headers=world.headers("other"),
        )
        return answer.json["free"]

    _pass(db_url, engine, T0 + timedelta(minutes=14))
    assert _status(engine, booked) == ReservationStatus.confirmed
    assert free_now() == []

    _pass(db_url, engine, T0 + timedelta(minutes=15))

    assert _status(engine, booked) == ReservationStatus.no_show
    assert free_now()[-1]["end"] == "2026-03-02T01:00:00Z"
    with Session(engine) as fresh:
        entry = fresh.exec(select(AuditLog).where(AuditLog.action == "reservation.no_show")).one()
    assert entry.subject == f"reservation:{booked.id}"


def test_a_machine_that_starts_running_checks_its_reservation_in(db_url, engine, session, world):
    laser = world.resources["laser"]
    device = add_device(session, laser)
    booked = reserve(session, laser, world.id("maker"), T0)
    session.add(
        UsageSession(
            resource_id=laser.id,
            device_id=device.id,
            reservation_id=booked.id,
            account_id=world.id("maker"),
            start_at=T0 + timedelta(minutes=4),
            last_sample_at=T0 + timedelta(minutes=4),
        )
    )
    session.commit()

    _pass(db_url, engine, T0 + timedelta(minutes=5))
    _pass(db_url, engine, T0 + timedelta(minutes=20))

    assert _status(engine, booked) == ReservationStatus.active


def _room_sensor(session, world, people: int, at):
    device = add_device(session, world.resources["room"])
    device.last_values = {"people": people, "co2_ppm": 600}
    device.last_ts = at
    session.commit()
    return device


def test_an_occupied_room_checks_its_booking_in(db_url, engine, session, world):
    booked = reserve(session, world.resources["room"], world.id("maker"), T0)
    _room_sensor(session, world, people=3, at=T0 + timedelta(minutes=2))

    _pass(db_url, engine, T0 + timedelta(minutes=3))

    assert _status(engine, booked) == ReservationStatus.active


def test_a_booked_room_still_empty_after_the_window_is_released(db_url, engine, session, world):
    booked = reserve(session, world.resources["room"], world.id("maker"), T0)
    _room_sensor(session, world, people=0, at=T0 + timedelta(minutes=14))

    _pass(db_url, engine, T0 + timedelta(minutes=15))

    assert _status(engine, booked) == ReservationStatus.no_show


def test_an_occupied_room_without_a_booking_raises_an_alert(db_url, engine, session, world):
    _room_sensor(session, world, people=2, at=T0)

    _pass(db_url, engine, T0 + timedelta(minutes=1))
    _pass(db_url, engine, T0 + timedelta(minutes=2))

    with Session(engine) as fresh:
        (alert,) = fresh.exec(select(Alert).where(Alert.kind == AlertKind.unauthorised_use))
    assert alert.subject == "seongsu/meeting-1"
    assert "without a booking" in alert.message
