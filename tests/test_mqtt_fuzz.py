"""Generated MQTT traffic, spoofed identities included, through the listener's and the
scheduler's real handling (decode → apply / settle / answer) on a real database: every
message is applied, counted as a dead letter, or is one of the server's own outbound
commands; and no sender changes a reservation, command or usage session it has no
right to."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from devices.contract import CommandAck, Event, InvalidMessage, Telemetry, decode, topic_for
from service.models import (
    CommandState,
    DeadLetterCount,
    Device,
    DeviceCommand,
    Reservation,
    ReservationStatus,
    UsageSession,
)
from service.rules.commands import CommandSpec, create_commands
from tests.conftest import CURRENT_TIME
from tests.inproc import Feed, inproc_settings
from tests.machines import add_device, reserve

NOW = CURRENT_TIME
MAKER_CARD, OTHER_CARD = "04A1B2C3", "04D5E6F7"
LASER_UID, CNC_UID = "a" * 32, "c" * 32
BOUND = {"laser-1", "cnc-1"}


@dataclass
class Fab:
    feed: Feed
    booking_id: int
    devices: dict[str, int]


@pytest.fixture
def fab(db_url, engine, session, world) -> Iterator[Fab]:
    """At seongsu: laser-1 and cnc-1 bound to their machines, an unbound loose-reader, one
    sent command to each machine, and the maker's booking of the laser starting now."""
    world.accounts["maker"].card_uid = MAKER_CARD
    world.accounts["other"].card_uid = OTHER_CARD
    loose = Device(site_id=world.sites["seongsu"].id or 0, resource_id=None, slug="loose-reader")
    session.add(loose)
    session.commit()
    devices = {
        "laser-1": add_device(session, world.resources["laser"], "laser-1"),
        "cnc-1": add_device(session, world.resources["cnc"], "cnc-1"),
        "loose-reader": loose,
    }
    specs = [
        CommandSpec(
            key=f"fuzz:{slug}",
            device_id=devices[slug].id or 0,
            resource_id=devices[slug].resource_id or 0,
            action="enable",
            due_at=NOW,
            uid=uid,
        )
        for slug, uid in (("laser-1", LASER_UID), ("cnc-1", CNC_UID))
    ]
    create_commands(session=session, now=NOW, specs=specs, sent=True)
    booking = reserve(session, world.resources["laser"], world.id("maker"), NOW)
    feed = Feed(inproc_settings(db_url), engine, NOW)
    yield Fab(feed, booking.id or 0, {slug: d.id or 0 for slug, d in devices.items()})
    feed.close()


def _reset(engine, fab: Fab) -> None:
    """Each example starts with both commands unacknowledged and the booking unused."""
    with Session(engine) as session:
        session.execute(
            update(DeviceCommand)
            .where(col(DeviceCommand.uid).in_([LASER_UID, CNC_UID]))
            .values(state=CommandState.sent, acked_at=None)
        )
        session.execute(
            update(Reservation)
            .where(col(Reservation.id) == fab.booking_id)
            .values(status=ReservationStatus.confirmed, checked_in_at=None)
        )
        session.commit()


# -- what is sent ----------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
ack_bodies = st.fixed_dictionaries(
    {
        "id": st.sampled_from([LASER_UID, CNC_UID, "f" * 32, "", 7]),
        "ok": st.sampled_from([True, False, "yes"]),
    }
)
badge_bodies = st.fixed_dictionaries(
    {"type": st.just("badge"), "card": st.sampled_from([MAKER_CARD, OTHER_CARD, "zz"])}
)
telemetry_bodies = st.fixed_dictionaries(
    {"state": st.sampled_from(["running", "idle", "fault"])},
    optional={
        "power_w": st.floats(0, 5000),
        "ts": st.sampled_from(
            [
                NOW.isoformat(),
                (NOW + timedelta(seconds=301)).isoformat(),
                (NOW + timedelta(days=400)).isoformat(),
                (NOW - timedelta(minutes=1)).isoformat(),
            ]
        ),
    },
)
payloads = st.one_of(
    ack_bodies.map(json.dumps).map(str.encode),
    badge_bodies.map(json.dumps).map(str.encode),
    telemetry_bodies.map(json.dumps).map(str.encode),
    json_values.map(json.dumps).map(str.encode),
    st.binary(max_size=80),
    st.sampled_from([b"online", b"offline", b"stopped", b"\x00", "성수".encode()]),
)
KINDS = ["telemetry", "event", "status", "cmd", "cmd/ack", "ack", "Event", "cmd/ack/x"]
SPOOF_DEVICES = ["loose-reader", "ghost-1", "laser-1\x00", "레이저", "+", "#", "a/b", ""]
SPOOF_SITES = ["mullae", "nowhere", "Seongsu", "성수", "se\x00ongsu", "+"]


def _topic(root: str, site: str, device: str, kind: str) -> str:
    return f"{root}/{site}/{device}/{kind}"


# Senders with no right to change a reservation, command or session: unregistered
# devices and sites, the unbound reader, acks naming the other machine's command, junk.
spoofed = st.one_of(
    st.tuples(
        st.builds(
            _topic,
            st.sampled_from(["smartfab", "smartfab2", "", "smartfab\x00"]),
            st.sampled_from(["seongsu", *SPOOF_SITES]),
            st.sampled_from(SPOOF_DEVICES),
            st.sampled_from(KINDS),
        ),
        payloads,
    ),
    st.tuples(
        st.sampled_from(SPOOF_SITES).map(lambda s: topic_for("smartfab", s, "laser-1", "event")),
        badge_bodies.map(json.dumps).map(str.encode),
    ),
    st.tuples(
        st.just(topic_for("smartfab", "seongsu", "cnc-1", "cmd/ack")),
        st.sampled_from([True, False]).map(
            lambda ok: json.dumps({"id": LASER_UID, "ok": ok}).encode()
        ),
    ),
    st.tuples(
        st.just(topic_for("smartfab", "seongsu", "laser-1", "cmd/ack")),
        st.sampled_from([True, False]).map(
            lambda ok: json.dumps({"id": CNC_UID, "ok": ok}).encode()
        ),
    ),
    st.tuples(st.text(max_size=40), payloads),
)
# Anything at all, the machines' own readers included.
anything = st.one_of(
    spoofed,
    st.tuples(
        st.builds(
            lambda device, kind: topic_for("smartfab", "seongsu", device, kind),
            st.sampled_from(sorted(BOUND)),
            st.sampled_from(["telemetry", "event", "cmd/ack", "status", "cmd"]),
        ),
        payloads,
    ),
)

# -- what it did -----------------------------------------------------------------------


def _state(engine) -> dict[str, dict]:
    with Session(engine) as session:
        return {
            "reservations": {
                r.id: (r.status, r.checked_in_at, r.resource_id)
                for r in session.exec(select(Reservation))
            },
            "commands": {
                c.uid: (c.state, c.acked_at, c.device_id)
                for c in session.exec(select(DeviceCommand))
            },
            "sessions": {
                u.id: (u.end_at, u.reservation_id, u.device_id)
                for u in session.exec(select(UsageSession))
            },
        }


def _dead_letters_counted(engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.coalesce(func.sum(DeadLetterCount.count), 0))).one())


def _decoded(topic: str, payload: bytes):
    try:
        return decode(topic, payload, root="smartfab", now=NOW)
    except InvalidMessage as exc:
        return exc.reason


def _send(engine, fab: Fab, messages: list[tuple[str, bytes]]) -> None:
    """Send them, then check that each was applied, refused or one of our commands."""
    stats = fab.feed.listener.stats
    before = (stats.messages, stats.dead_letters, stats.refused, _dead_letters_counted(engine))
    fab.feed.both(messages)
    outbound = sum(_decoded(t, p) == "not_inbound" for t, p in messages)
    decoded = stats.messages - before[0]
    letters = stats.dead_letters - before[1]
    refused = stats.refused - before[2]
    # Decoded, refused at decoding (a dead letter), or our own command echoed back.
    assert decoded + (letters - refused) + outbound == len(messages)
    # Every dead letter is counted where the operator reads it.
    assert _dead_letters_counted(engine) - before[3] == letters


FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(st.lists(spoofed, min_size=1, max_size=6))
def test_spoofed_senders_change_no_reservation_command_or_session(engine, fab, messages):
    _reset(engine, fab)
    before = _state(engine)

    _send(engine, fab, messages)

    assert _state(engine) == before
    assert fab.feed.sent.commands == []


@FUZZ
@given(st.lists(anything, min_size=1, max_size=6))
def test_every_change_has_a_sender_with_the_right_to_make_it(engine, fab, messages):
    _reset(engine, fab)
    before = _state(engine)
    sent = len(fab.feed.sent.commands)

    _send(engine, fab, messages)

    after = _state(engine)
    said = [m for m in (_decoded(t, p) for t, p in messages) if not isinstance(m, str)]
    by = {(m.site, m.device) for m in said}
    acks = {(m.site, m.device, m.id) for m in said if isinstance(m, CommandAck)}
    badges = {
        (m.device, m.data["card"]) for m in said if isinstance(m, Event) and m.type == "badge"
    }
    running = {m.device for m in said if isinstance(m, Telemetry)}
    slugs = {device_id: slug for slug, device_id in fab.devices.items()}
    for uid, (state, acked_at, device_id) in after["commands"].items():
        if uid in before["commands"] and before["commands"][uid][:2] != (state, acked_at):
            # Settled only by an ack from the device the command went to.
            assert ("seongsu", slugs[device_id], uid) in acks
        elif uid not in before["commands"]:
            # A new command is the answer to a tap at that (bound) reader.
            assert slugs[device_id] in BOUND
            assert any(device == slugs[device_id] for device, _ in badges)
    assert set(after["reservations"]) == set(before["reservations"])
    if after["reservations"][fab.booking_id] != before["reservations"][fab.booking_id]:
        # The laser booking is checked in only by its maker's card at the laser's reader.
        assert ("laser-1", MAKER_CARD) in badges
    for usage_id, (_, _, device_id) in after["sessions"].items():
        if usage_id not in before["sessions"]:
            assert slugs[device_id] in BOUND and slugs[device_id] in running
    assert all(("seongsu", c.device) in by for c in fab.feed.sent.commands[sent:])
