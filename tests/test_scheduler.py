"""Slot enforcement over a real broker: enable at the start, warn before the end, disable at
the end (after a grace when still running), retries until acknowledged, catch-up after
downtime. Simulated machines answer cmd/ack; the clock is moved by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from scheduler.runner import Scheduler
from service.models import (
    Alert,
    AlertKind,
    CommandState,
    Device,
    DeviceCommand,
    Reservation,
    ReservationStatus,
)
from service.rules.accounts import principal_for
from service.rules.lifecycle import extend, release
from tests.conftest import CURRENT_TIME
from tests.machines import Clock, Machines, acked, add_device, reserve, scheduler_settings

T0 = CURRENT_TIME  # 09:00 in Seoul


@pytest.fixture
def machines(mosquitto) -> Iterator[Machines]:
    with Machines(mosquitto.host, mosquitto.port) as sim:
        yield sim


def _scheduler(db_url, mosquitto, engine, **scheduler) -> Scheduler:
    settings = scheduler_settings(db_url, mosquitto, scheduler=scheduler)
    return Scheduler(settings, engine, clock=Clock(T0))


class Acked(Scheduler):
    """A scheduler whose each pass waits for the machines' acks, as real time would."""

    def tick(self, now=None) -> bool:
        found = super().tick(now)
        acked(self.engine)
        return found


@pytest.fixture
def scheduler(db_url, mosquitto, engine, world) -> Iterator[Scheduler]:
    settings = scheduler_settings(db_url, mosquitto)
    running = Acked(settings, engine, clock=Clock(T0))
    running.link.start()
    yield running
    running.link.stop()


@pytest.fixture
def laser(session, world):
    add_device(session, world.resources["laser"])
    return world.resources["laser"]


def _active(session, world, resource, start=T0, minutes=60) -> Reservation:
    return reserve(
        session,
        resource,
        world.id("maker"),
        start,
        minutes,
        status=ReservationStatus.active,
        checked_in_at=start,
    )


def _alerts(engine, kind: AlertKind) -> list[Alert]:
    with Session(engine) as fresh:
        return list(fresh.exec(select(Alert).where(Alert.kind == kind)))


def _commands(engine) -> list[DeviceCommand]:
    with Session(engine) as fresh:
        return list(fresh.exec(select(DeviceCommand).order_by(col(DeviceCommand.id))))


def test_start_of_a_confirmed_reservation_enables_the_machine_until_its_end(
    scheduler, machines, session, world, laser, engine
):
    booked = reserve(session, laser, world.id("maker"), T0)

    assert scheduler.tick(T0)

    (command,) = machines.wait_for(1)
    assert (command.site, command.device, command.action) == ("seongsu", "laser-1", "enable")
    assert command.body["reservation"] == booked.id
    assert command.body["until"] == "2026-03-02T01:00:00.000Z"
    assert "10:00" in command.body["message"]
    machines.settle()
    (row,) = _commands(engine)
    assert row.uid == command.body["id"]
    assert row.state == CommandState.acked and row.acked_at is not None


def test_warning_before_the_end_then_disable_at_the_end(
    scheduler, machines, session, world, laser, engine
):
    booked = _active(session, world, laser)
    scheduler.tick(T0)
    scheduler.tick(T0 + timedelta(minutes=54))
    assert machines.settle() and machines.actions() == ["enable"]

    scheduler.tick(T0 + timedelta(minutes=55))
    machines.wait_for(2)
    scheduler.tick(T0 + timedelta(minutes=60))
    machines.wait_for(3)
    scheduler.tick(T0 + timedelta(minutes=61))

    assert [r.action for r in machines.settle()] == ["enable", "warn", "disable"]
    session.refresh(booked)
    assert booked.status == ReservationStatus.completed


def test_an_extended_reservation_gets_a_new_enable_and_no_disable_at_the_old_end(
    scheduler, machines, session, world, laser
):
    booked = _active(session, world, laser)
    scheduler.tick(T0)
    extend(
        session=session,
        now=T0 + timedelta(minutes=50),
        actor=principal_for(session=session, account=world.accounts["maker"]),
        reservation_id=booked.id,
        end=T0 + timedelta(minutes=90),
    )
    session.commit()

    scheduler.tick(T0 + timedelta(minutes=50))
    scheduler.tick(T0 + timedelta(minutes=60))

    received = machines.settle()
    assert [r.action for r in received] == ["enable", "enable"]
    assert received[1].body["until"] == "2026-03-02T01:30:00.000Z"


def test_a_machine_still_running_at_the_end_gets_the_grace_and_an_overstay_alert(
    scheduler, machines, session, world, laser, engine
):
    _active(session, world, laser)
    scheduler.tick(T0 + timedelta(minutes=56))
    machines.wait_for(2)
    device = session.exec(select(DeviceCommand)).first()
    assert device is not None
    machine = session.get(Device, device.device_id)
    machine.state = "running"
    session.commit()

    scheduler.tick(T0 + timedelta(minutes=60))
    scheduler.tick(T0 + timedelta(minutes=69))
    assert machines.settle() and machines.actions() == ["enable", "warn"]
    (alert,) = _alerts(engine, AlertKind.overstay)
    assert alert.subject == "seongsu/laser-1" and "10:10" in alert.message

    scheduler.tick(T0 + timedelta(minutes=70))
    assert machines.wait_for(3)[-1].action == "disable"


def test_the_next_booking_takes_the_machine_over_without_switching_it_off(
    scheduler, machines, session, world, laser, engine
):
    _active(session, world, laser)
    following = reserve(session, laser, world.id("other"), T0 + timedelta(minutes=60))
    scheduler.tick(T0)
    scheduler.tick(T0 + timedelta(minutes=60))

    received = machines.settle()
    assert [r.action for r in received] == ["enable", "enable"]
    assert received[1].body["reservation"] == following.id
    handed = [c for c in _commands(engine) if c.action == "disable"]
    assert [c.state for c in handed] == [CommandState.superseded]


def _running(session, resource) -> None:
    machine = session.exec(select(Device).where(Device.resource_id == resource.id)).one()
    machine.state = "running"
    session.commit()


def test_a_machine_still_running_when_someone_else_takes_over_raises_an_overstay_alert(
    scheduler, machines, session, world, laser, engine
):
    first = _active(session, world, laser)
    following = reserve(session, laser, world.id("other"), T0 + timedelta(minutes=60))
    scheduler.tick(T0)
    _running(session, laser)

    scheduler.tick(T0 + timedelta(minutes=60))

    received = machines.settle()
    assert [r.action for r in received] == ["enable", "enable"]
    assert received[1].body["reservation"] == following.id
    (alert,) = _alerts(engine, AlertKind.overstay)
    assert alert.subject == "seongsu/laser-1"
    assert f"reservation {first.id} ended at 10:00" in alert.message
    assert "handed over" in alert.message


def test_a_machine_running_into_the_same_makers_next_booking_is_no_overstay(
    scheduler, machines, session, world, laser, engine
):
    _active(session, world, laser)
    reserve(session, laser, world.id("maker"), T0 + timedelta(minutes=60))
    scheduler.tick(T0)
    _running(session, laser)

    scheduler.tick(T0 + timedelta(minutes=60))

    assert [r.action for r in machines.settle()] == ["enable", "enable"]
    assert _alerts(engine, AlertKind.overstay) == []


def test_an_early_release_disables_the_machine_at_once(scheduler, machines, session, world, laser):
    booked = _active(session, world, laser)
    scheduler.tick(T0)
    machines.wait_for(1)
    release(
        session=session,
        now=T0 + timedelta(minutes=20),
        actor=principal_for(session=session, account=world.accounts["maker"]),
        reservation_id=booked.id,
    )
    session.commit()

    scheduler.tick(T0 + timedelta(minutes=20))

    assert [r.action for r in machines.wait_for(2)] == ["enable", "disable"]


def test_an_unacknowledged_command_is_retried_with_backoff_then_raises_an_alert(
    db_url, mosquitto, machines, engine, session, world, laser
):
    machines.silent.add("laser-1")
    scheduler = _scheduler(db_url, mosquitto, engine, command_retry_s=5, command_max_tries=3)
    scheduler.link.start()
    try:
        reserve(session, laser, world.id("maker"), T0)
        for seconds in (0, 4, 5, 14, 15, 34):
            scheduler.tick(T0 + timedelta(seconds=seconds))
        received = machines.settle()
        assert [r.action for r in received] == ["enable"] * 3
        assert len({r.body["id"] for r in received}) == 1
        assert _alerts(engine, AlertKind.command_failed) == []

        scheduler.tick(T0 + timedelta(seconds=35))
    finally:
        scheduler.link.stop()

    (command,) = _commands(engine)
    assert command.state == CommandState.failed and command.tries == 3
    (alert,) = _alerts(engine, AlertKind.command_failed)
    assert alert.subject == "seongsu/laser-1"


def test_after_downtime_overdue_machines_are_disabled_and_stale_warnings_not_sent(
    scheduler, machines, session, world, laser, engine
):
    booked = _active(session, world, laser)
    missed = reserve(session, laser, world.id("other"), T0 + timedelta(minutes=60))
    scheduler.tick(T0)
    machines.wait_for(1)

    # Down from 09:01 to 10:30: the end, the warning, the next start and its no-show passed.
    scheduler.tick(T0 + timedelta(minutes=90))

    assert [r.action for r in machines.settle()] == ["enable", "disable"]
    session.refresh(booked)
    session.refresh(missed)
    assert booked.status == ReservationStatus.completed
    assert missed.status == ReservationStatus.no_show
