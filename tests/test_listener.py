"""The listener against a real Mosquitto, into InfluxDB or the embedded SQL store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from devices.contract import encode_telemetry, format_ts, topic_for
from service.app import create_app
from service.config import Settings
from service.models import DeadLetter, Device, UsageSession
from service.telemetry_store import close_store
from tests.factories import World
from tests.ingest import Listeners
from tests.publish import Publisher, telemetry, wait_for
from tests.services import Mosquitto


def recent() -> datetime:
    """Samples carry real times: the contract refuses ones days old."""
    return datetime.now(UTC) - timedelta(minutes=2)


@pytest.fixture
def publisher(mosquitto: Mosquitto) -> Iterator[Publisher]:
    pub = Publisher(mosquitto.host, mosquitto.port)
    yield pub
    pub.close()


def test_published_samples_are_stored_applied_and_acknowledged(
    listeners: Listeners,
    publisher: Publisher,
    devices: list[tuple[str, str]],
    stored: Callable[[], int],
    engine: Engine,
) -> None:
    listener = listeners.start()
    publisher.publish(telemetry(devices, 600, start=recent()))
    wait_for(lambda: stored() == 600, timeout=20)
    wait_for(lambda: listener.stats.acked == 600, timeout=5)
    with Session(engine) as session:
        seen = session.exec(select(Device).where(col(Device.last_seen).is_not(None))).all()
    assert {d.slug for d in seen} == {device for _site, device in devices}
    assert {d.state for d in seen} == {"idle"}
    assert listener.stats.dead_letters == 0


def test_published_samples_are_read_back_through_the_api(
    listeners: Listeners,
    publisher: Publisher,
    stored: Callable[[], int],
    ingest_settings: Settings,
    engine: Engine,
    world: World,
) -> None:
    listeners.start()
    start = recent().replace(second=0, microsecond=0)
    topic = topic_for("smartfab", "seongsu", "laser-1", "telemetry")
    publisher.publish(
        (
            topic,
            encode_telemetry(
                start + timedelta(seconds=i), "running", {"power_w": 1000.0 + i, "seq": i}
            ),
        )
        for i in range(120)
    )
    wait_for(lambda: stored() == 120, timeout=20)
    # The app serves telemetry from the store its settings choose, like the listener's.
    app = create_app(ingest_settings, engine)
    app.config.update(TESTING=True, CLOCK=lambda: start + timedelta(minutes=5))
    client = app.test_client()
    url = f"/api/v1/resources/{world.id('laser')}/telemetry"
    span = {"from": format_ts(start), "to": format_ts(start + timedelta(minutes=2))}
    try:
        raw = client.get(
            url, query_string={"field": "power_w", **span}, headers=world.headers("operator")
        )
        assert raw.status_code == 200, raw.json
        assert [p["value"] for p in raw.json["points"]] == [1000.0 + i for i in range(120)]
        means = client.get(
            url,
            query_string={"field": "power_w", "every": "1m", **span},
            headers=world.headers("operator"),
        ).json["points"]
        assert [(datetime.fromisoformat(p["ts"]), p["value"]) for p in means] == [
            (start, 1029.5),
            (start + timedelta(minutes=1), 1089.5),
        ]
        latest = client.get(url, headers=world.headers("operator")).json
        assert latest["values"]["power_w"] == 1119.0 and latest["values"]["state"] == "running"
        assert datetime.fromisoformat(latest["ts"]) == start + timedelta(seconds=119)
    finally:
        close_store(app)


@pytest.mark.parametrize("store_kind", ["sql"], indirect=True)
def test_bad_messages_become_dead_letters_and_commands_are_left_alone(
    listeners: Listeners,
    publisher: Publisher,
    devices: list[tuple[str, str]],
    stored: Callable[[], int],
    engine: Engine,
) -> None:
    listener = listeners.start()
    site, device = devices[0]
    good = encode_telemetry(recent(), "idle", {"seq": 1})
    publisher.publish(
        [
            (f"smartfab/{site}/{device}/telemetry", b"{not json"),
            (f"smartfab/{site}/{device}/telemetry", b'{"power_w": "lots"}'),
            (f"smartfab/{site}/{device}/sideways", b"{}"),
            (f"smartfab/{site}/{device}/cmd", b'{"id": "1", "action": "enable"}'),
            (f"smartfab/{site}/{device}/telemetry", good),
        ]
    )
    wait_for(lambda: listener.stats.acked == 5, timeout=10)
    assert stored() == 1
    with Session(engine) as session:
        reasons = session.exec(select(DeadLetter.reason).order_by(col(DeadLetter.id))).all()
    assert sorted(reasons) == ["bad_type", "not_json", "unknown_topic"]


def test_messages_sent_while_the_listener_is_down_wait_in_its_session(
    listeners: Listeners,
    publisher: Publisher,
    devices: list[tuple[str, str]],
    stored: Callable[[], int],
) -> None:
    first = listeners.start()
    listeners.stop(first)
    publisher.publish(telemetry(devices, 2000, start=recent()))
    assert stored() == 0
    second = listeners.start()
    wait_for(lambda: stored() == 2000, timeout=30)
    wait_for(lambda: second.stats.acked == 2000, timeout=5)


@pytest.mark.parametrize(
    ("db_url", "store_kind"), [("sqlite", "influx"), ("postgresql", "sql")], indirect=True
)
def test_after_a_broker_restart_the_listener_reconnects_and_resumes(
    listeners: Listeners,
    mosquitto: Mosquitto,
    devices: list[tuple[str, str]],
    stored: Callable[[], int],
) -> None:
    listener = listeners.start()
    samples = list(telemetry(devices, 6000, start=recent()))
    before = Publisher(mosquitto.host, mosquitto.port, "devices-before")
    before.publish(samples[:3000])
    before.close()
    wait_for(lambda: stored() >= 500, timeout=20)
    mosquitto.restart()
    after = Publisher(mosquitto.host, mosquitto.port, "devices-after")
    after.publish(samples[3000:])
    after.close()
    wait_for(lambda: stored() == 6000, timeout=40)
    assert listener.stats.connects >= 2


@pytest.mark.parametrize(
    ("db_url", "store_kind"), [("sqlite", "sql"), ("postgresql", "influx")], indirect=True
)
def test_two_listeners_in_a_shared_group_split_the_stream_without_overlap(
    listeners: Listeners,
    publisher: Publisher,
    devices: list[tuple[str, str]],
    stored: Callable[[], int],
) -> None:
    one = listeners.start(client_id="listener-1", shared_group="ingest")
    two = listeners.start(client_id="listener-2", shared_group="ingest")
    publisher.publish(telemetry(devices, 4000, start=recent()))
    wait_for(lambda: one.stats.acked + two.stats.acked >= 4000, timeout=30)
    assert one.stats.messages > 0 and two.stats.messages > 0
    assert one.stats.messages + two.stats.messages == 4000
    assert stored() == 4000


def test_each_device_is_applied_in_order_and_everything_is_acknowledged(
    listeners: Listeners,
    publisher: Publisher,
    devices: list[tuple[str, str]],
    stored: Callable[[], int],
    engine: Engine,
) -> None:
    """Each device runs for 60 s between two idle samples. Applied out of order, the
    idle samples would end runs early or leave them open; every run must be whole."""
    listener = listeners.start()
    start = recent()
    states = ["idle", *["running"] * 6, "idle"]
    steps = [(i, state, site, device) for i, state in enumerate(states) for site, device in devices]
    messages = [
        (
            topic_for("smartfab", site, device, "telemetry"),
            # `stored` counts the points that carry a `seq` field.
            encode_telemetry(start + timedelta(seconds=10 * i), state, {"seq": n}),
        )
        for n, (i, state, site, device) in enumerate(steps)
    ]
    publisher.publish(messages)
    wait_for(lambda: listener.stats.acked == len(messages), timeout=30)
    assert stored() == len(messages)
    with Session(engine) as session:
        runs = session.exec(select(UsageSession)).all()
    assert sorted((u.run_seconds, u.end_at is not None) for u in runs) == [(60, True)] * len(
        devices
    )


def test_samples_without_ts_in_one_batch_each_keep_their_arrival_time(
    listeners: Listeners,
    publisher: Publisher,
    devices: list[tuple[str, str]],
    stored: Callable[[], int],
    engine: Engine,
) -> None:
    first = listeners.start()
    listeners.stop(first)
    # Sent while the listener is away, the two arrive together when it is back.
    topic = topic_for("smartfab", "seongsu", "laser-1", "telemetry")
    publisher.publish(
        [
            (topic, encode_telemetry(None, "running", {"power_w": 900.0, "seq": 1})),
            (topic, encode_telemetry(None, "idle", {"power_w": 5.0, "seq": 2})),
        ]
    )
    second = listeners.start()
    wait_for(lambda: second.stats.acked == 2, timeout=10)
    assert stored() == 2
    with Session(engine) as session:
        device = session.exec(select(Device).where(Device.slug == "laser-1")).one()
        usage = session.exec(select(UsageSession).where(UsageSession.device_id == device.id)).one()
    assert device.state == "idle"
    assert usage.end_at is not None
    assert usage.end_at > usage.start_at


@pytest.mark.parametrize(("db_url", "store_kind"), [("sqlite", "sql")], indirect=True)
def test_a_message_alone_in_its_batch_that_cannot_be_applied_is_dead_lettered(
    listeners: Listeners,
    publisher: Publisher,
    devices: list[tuple[str, str]],
    engine: Engine,
) -> None:
    # The database refuses this one write, as it would a value breaking a constraint.
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TRIGGER refuse_fault BEFORE UPDATE OF state ON device"
            " WHEN NEW.state = 'fault' BEGIN SELECT RAISE(ABORT, 'fault refused'); END"
        )
    listener = listeners.start()
    laser = topic_for("smartfab", "seongsu", "laser-1", "telemetry")
    publisher.publish([(laser, encode_telemetry(recent(), "fault", {"seq": 1}))])
    wait_for(lambda: listener.stats.acked == 1, timeout=10)
    (site, device), *_ = [d for d in devices if d[1] != "laser-1"]
    other = topic_for("smartfab", site, device, "telemetry")
    publisher.publish([(other, encode_telemetry(recent(), "idle", {"seq": 2}))])
    wait_for(lambda: listener.stats.acked == 2, timeout=10)
    with Session(engine) as session:
        letters = session.exec(select(DeadLetter)).all()
        applied = session.exec(select(Device).where(Device.slug == device)).one()
    assert [(letter.device, letter.reason.split(":")[0]) for letter in letters] == [
        ("laser-1", "apply_failed")
    ]
    assert applied.state == "idle"
    assert listener.stats.failures == 0


@pytest.mark.parametrize("store_kind", ["sql"], indirect=True)
def test_a_device_is_stored_from_its_first_message_after_registration_and_dead_lettered_before(
    listeners: Listeners,
    publisher: Publisher,
    stored: Callable[[], int],
    engine: Engine,
    world: World,
) -> None:
    listener = listeners.start()
    topic = topic_for("smartfab", "seongsu", "ghost-1", "telemetry")
    publisher.publish([(topic, encode_telemetry(recent(), "idle", {"seq": 1}))])
    wait_for(lambda: listener.stats.acked == 1, timeout=10)
    with Session(engine) as session:
        session.add(Device(site_id=world.sites["seongsu"].id or 0, slug="ghost-1"))
        session.commit()
        reasons = session.exec(select(DeadLetter.reason)).all()
    assert (reasons, stored()) == (["unknown_device"], 0)
    time.sleep(0.3)  # the directory looks again for a missed device after 0.2 s
    publisher.publish([(topic, encode_telemetry(recent(), "idle", {"seq": 2}))])
    wait_for(lambda: listener.stats.acked == 2, timeout=10)
    assert stored() == 1


@pytest.mark.parametrize("store_kind", ["sql"], indirect=True)
def test_a_dead_letter_from_an_unknown_device_keeps_the_bytes_sent_up_to_1_kib(
    listeners: Listeners, publisher: Publisher, engine: Engine
) -> None:
    listener = listeners.start()
    topic = topic_for("smartfab", "seongsu", "ghost-2", "telemetry")
    # Valid, but not as the contract would write it: spacing, key order, a float spelling.
    odd = b'{ "seq" : 1E0 ,\n  "state": "idle" }'
    long = b'{"state": "idle", "seq": 2' + b" " * 2000 + b"}"
    publisher.publish([(topic, odd), (topic, long)])
    wait_for(lambda: listener.stats.acked == 2, timeout=10)
    with Session(engine) as session:
        letters = session.exec(select(DeadLetter).order_by(col(DeadLetter.id))).all()
    assert [(d.reason, d.topic) for d in letters] == [("unknown_device", topic)] * 2
    assert [(d.payload, d.size) for d in letters] == [(odd, len(odd)), (long[:1024], len(long))]


@pytest.mark.parametrize(("db_url", "store_kind"), [("sqlite", "sql")], indirect=True)
def test_a_message_whose_dead_letter_cannot_be_kept_is_logged_and_does_not_stall_the_stream(
    listeners: Listeners,
    publisher: Publisher,
    devices: list[tuple[str, str]],
    stored: Callable[[], int],
    engine: Engine,
) -> None:
    # The database refuses this one dead letter, as it would a row breaking a constraint.
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TRIGGER refuse_letter BEFORE INSERT ON dead_letter"
            " WHEN NEW.reason = 'not_json' BEGIN SELECT RAISE(ABORT, 'letter refused'); END"
        )
    listener = listeners.start()
    site, device = devices[0]
    topic = topic_for("smartfab", site, device, "telemetry")
    publisher.publish([(topic, b"{not json")])
    wait_for(lambda: listener.stats.acked == 1, timeout=10)
    publisher.publish([(topic, encode_telemetry(recent(), "idle", {"seq": 1}))])
    wait_for(lambda: listener.stats.acked == 2, timeout=10)
    assert (listener.stats.dropped, listener.stats.failures, stored()) == (1, 0, 1)
