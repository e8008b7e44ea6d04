"""The server checks who says what, whatever the broker lets through: an ack counts only
from the device its command went to, a badge only from the reader bound to that machine,
a sample stamped far ahead of the clock is refused; each refusal is a dead letter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from devices.contract import encode_ack, encode_event, encode_telemetry, topic_for
from service.models import (
    AuditLog,
    CommandState,
    DeadLetter,
    DeadLetterCount,
    Device,
    DeviceCommand,
    Reservation,
    ReservationStatus,
)
from service.rules.commands import CommandSpec, create_commands
from tests.conftest import CURRENT_TIME
from tests.inproc import Feed, inproc_settings
from tests.machines import add_device, reserve

NOW = CURRENT_TIME
MAKER_CARD = "04A1B2C3"


@pytest.fixture
def feed(db_url, engine, world) -> Iterator[Feed]:
    running = Feed(inproc_settings(db_url), engine, NOW)
    yield running
    running.close()


@pytest.fixture
def readers(session, world) -> dict[str, Device]:
    world.accounts["maker"].card_uid = MAKER_CARD
    unbound = Device(site_id=world.sites["seongsu"].id or 0, resource_id=None, slug="loose-reader")
    session.add(unbound)
    session.commit()
    return {
        "laser": add_device(session, world.resources["laser"], "laser-1"),
        "cnc": add_device(session, world.resources["cnc"], "cnc-1"),
        "loose": unbound,
    }


def _letters(engine) -> list[tuple[str | None, str]]:
    with Session(engine) as fresh:
        return list(fresh.exec(select(DeadLetter.device, DeadLetter.reason)).all())


def _command(session, device: Device) -> DeviceCommand:
    spec = CommandSpec(
        key=f"enable:test:{device.id}",
        device_id=device.id or 0,
        resource_id=device.resource_id or 0,
        action="enable",
        due_at=NOW,
        until=NOW + timedelta(hours=1),
    )
    [command_id] = create_commands(session=session, now=NOW, specs=[spec], sent=True)
    session.commit()
    command = session.get(DeviceCommand, command_id)
    assert command is not None
    return command


def _state(engine, command: DeviceCommand) -> CommandState:
    with Session(engine) as fresh:
        row = fresh.get(DeviceCommand, command.id)
        assert row is not None
        return row.state


def ack(device: str, uid: str) -> tuple[str, bytes]:
    return topic_for("smartfab", "seongsu", device, "cmd/ack"), encode_ack(uid, True)


def tap(device: str, card: str = MAKER_CARD) -> tuple[str, bytes]:
    return topic_for("smartfab", "seongsu", device, "event"), encode_event(None, "badge", card=card)


def test_an_ack_from_another_device_settles_nothing_and_is_a_dead_letter(
    feed, session, engine, readers
):
    command = _command(session, readers["laser"])

    feed.both([ack("cnc-1", command.uid)])

    assert _state(engine, command) == CommandState.sent
    assert _letters(engine) == [("cnc-1", "ack_from_wrong_device")]
    assert feed.listener.stats.dead_letters == 1


def test_the_ack_from_the_commanded_device_settles_it_without_a_dead_letter(
    feed, session, engine, readers
):
    command = _command(session, readers["laser"])

    feed.both([ack("cnc-1", command.uid), ack("laser-1", command.uid)])

    assert _state(engine, command) == CommandState.acked
    assert _letters(engine) == [("cnc-1", "ack_from_wrong_device")]


def test_an_ack_for_no_command_is_a_dead_letter(feed, engine, readers):
    feed.listen([ack("laser-1", "f" * 32)])

    assert _letters(engine) == [("laser-1", "ack_unknown_command")]


def test_wrong_device_acks_are_counted_per_device_and_logged_once(
    feed, session, engine, readers, caplog
):
    command = _command(session, readers["laser"])

    feed.listen([ack("cnc-1", command.uid)] * 3)
    feed.listen([ack("cnc-1", command.uid)])

    with Session(engine) as fresh:
        counts = fresh.exec(select(DeadLetterCount.source, DeadLetterCount.count)).all()
    assert counts == [("seongsu/cnc-1", 4)]
    logged = [r for r in caplog.records if "ack_from_wrong_device" in r.getMessage()]
    assert len(logged) == 1


def test_a_badge_from_an_unbound_reader_is_a_dead_letter_and_acts_on_nothing(
    feed, session, engine, world, readers
):
    booked = reserve(session, world.resources["laser"], world.id("maker"), NOW)

    feed.both([tap("loose-reader")])

    assert _letters(engine) == [("loose-reader", "badge_from_unbound_device")]
    with Session(engine) as fresh:
        reader = fresh.get(Device, readers["loose"].id)
        assert reader is not None and reader.last_card is None
        assert fresh.get(Reservation, booked.id).status == ReservationStatus.confirmed  # type: ignore[union-attr]
        assert fresh.exec(select(DeviceCommand)).all() == []
        assert fresh.exec(select(AuditLog).where(col(AuditLog.action).like("access.%"))).all() == []
    assert feed.sent.commands == []


def test_a_badge_acts_only_on_the_reservations_of_its_readers_machine(
    feed, session, engine, world, readers
):
    laser_booking = reserve(session, world.resources["laser"], world.id("maker"), NOW)

    feed.both([tap("cnc-1")])

    with Session(engine) as fresh:
        booking = fresh.get(Reservation, laser_booking.id)
        assert booking is not None and booking.status == ReservationStatus.confirmed
        targets = fresh.exec(select(DeviceCommand.device_id, DeviceCommand.action)).all()
    # The cnc reader may only answer for the cnc (here: no walk-ins, so a deny).
    assert targets == [(readers["cnc"].id, "deny")]
    assert _letters(engine) == []


def test_the_badge_of_the_bound_reader_checks_the_booker_in(feed, session, engine, world, readers):
    laser_booking = reserve(session, world.resources["laser"], world.id("maker"), NOW)

    feed.both([tap("laser-1")])

    with Session(engine) as fresh:
        booking = fresh.get(Reservation, laser_booking.id)
        assert booking is not None and booking.status == ReservationStatus.active
    assert [(c.device, c.action) for c in feed.sent.commands] == [("laser-1", "enable")]
    assert _letters(engine) == []


def test_a_sample_stamped_beyond_the_allowed_skew_is_a_dead_letter(db_url, engine, readers):
    feed = Feed(inproc_settings(db_url, max_clock_skew_s=60), engine, NOW)
    topic = topic_for("smartfab", "seongsu", "laser-1", "telemetry")
    try:
        feed.listen(
            [
                (topic, encode_telemetry(NOW + timedelta(seconds=59), "running", {})),
                (topic, encode_telemetry(NOW + timedelta(seconds=61), "fault", {})),
            ]
        )
    finally:
        feed.close()
    assert _letters(engine) == [("laser-1", "ts_in_future")]
    with Session(engine) as fresh:
        reader = fresh.get(Device, readers["laser"].id)
        assert reader is not None and reader.state == "running"
