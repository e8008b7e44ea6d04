"""The broker's password file and ACL, generated from the registry, stop each attack.

A real Mosquitto runs with the files `smartfab mqtt config` writes; real paho clients
log in as devices, the listener and the scheduler.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session

from service import broker_access
from service.clock import utcnow
from service.config import MqttSettings
from service.models.admin import DeviceCreate
from service.rules import admin_devices
from tests.factories import World
from tests.mqtt_accounts import NOT_AUTHORISED, Account, Refused, login
from tests.services import Mosquitto

ROOT = "smartfab"
MQTT = MqttSettings(
    username="listener",
    password="listener-pw",
    scheduler_username="scheduler",
    scheduler_password="scheduler-pw",
)
A = f"{ROOT}/seongsu/laser-ctl"
B = f"{ROOT}/seongsu/cnc-ctl"


@dataclass
class Fleet:
    broker: Mosquitto
    session: Session
    directory: Path
    pid_file: Path
    passwords: dict[str, str]  # by MQTT user name
    ids: dict[str, int]

    def regenerate(self) -> None:
        broker_access.generate(
            session=self.session, mqtt=MQTT, directory=self.directory, pid_file=self.pid_file
        )

    def login(self, username: str) -> Account:
        password = self.passwords.get(username) or MQTT.password
        if username == "scheduler":
            password = MQTT.scheduler_password
        return login(self.broker, username, password)


@pytest.fixture
def fleet(session: Session, world: World, tmp_path: Path) -> Iterator[Fleet]:
    passwords, ids = {}, {}
    for slug in ("laser-ctl", "cnc-ctl"):
        issued = admin_devices.create_device(
            session=session,
            now=utcnow(),
            actor=None,
            body=DeviceCreate(site_id=world.sites["seongsu"].id, slug=slug),
        )
        passwords[f"seongsu.{slug}"] = issued.password
        ids[slug] = issued.device.id
    session.commit()
    directory = tmp_path / "access"
    files = broker_access.render_registry(session=session, mqtt=MQTT)
    broker_access.write_files(directory, files)
    snippet = (directory / "mosquitto.conf").read_text()
    (tmp_path / "broker").mkdir()
    with Mosquitto(tmp_path / "broker", anonymous=False, extra_conf=snippet) as broker:
        assert broker.proc is not None
        pid_file = tmp_path / "mosquitto.pid"
        pid_file.write_text(str(broker.proc.pid))
        yield Fleet(broker, session, directory, pid_file, passwords, ids)


@pytest.fixture
def listener(fleet: Fleet) -> Iterator[Account]:
    account = fleet.login("listener")
    assert account.subscribe(f"{ROOT}/#") == 1
    yield account
    account.close()


def test_an_anonymous_client_cannot_connect(fleet):
    with pytest.raises(Refused):
        login(fleet.broker, None)


def test_a_wrong_password_cannot_connect(fleet):
    with pytest.raises(Refused):
        login(fleet.broker, "seongsu.laser-ctl", fleet.passwords["seongsu.cnc-ctl"])


def test_a_device_publishes_under_its_own_topics_only(fleet, listener):
    a = fleet.login("seongsu.laser-ctl")
    assert a.publish(f"{B}/telemetry", b'{"state":"running"}') == NOT_AUTHORISED
    assert a.publish(f"{B}/event", b'{"type":"badge","card":"04A1B2C3"}') == NOT_AUTHORISED
    assert a.publish(f"{B}/status", b"online", retain=True) == NOT_AUTHORISED
    own = ("telemetry", "event", "status", "cmd/ack")
    for kind in own:
        assert a.publish(f"{A}/{kind}", b"mine") == 0
    # Messages of one publisher arrive in order: once its last own one is in, none of B's is.
    listener.wait_for(f"{A}/cmd/ack", b"mine")
    assert listener.topics() == {f"{A}/{kind}" for kind in own}
    a.close()


def test_a_device_cannot_publish_a_command(fleet, listener):
    a = fleet.login("seongsu.laser-ctl")
    b = fleet.login("seongsu.cnc-ctl")
    assert b.subscribe(f"{B}/cmd") == 1
    assert a.publish(f"{A}/cmd", b'{"action":"enable"}') == NOT_AUTHORISED
    assert a.publish(f"{B}/cmd", b'{"action":"enable"}') == NOT_AUTHORISED
    assert a.publish(f"{A}/telemetry", b"after") == 0
    listener.wait_for(f"{A}/telemetry", b"after")
    assert f"{A}/cmd" not in listener.topics() and f"{B}/cmd" not in listener.topics()
    assert b.received == []
    a.close()
    b.close()


def test_a_device_reads_neither_the_commands_nor_the_badges_of_another(fleet, listener):
    a = fleet.login("seongsu.laser-ctl")
    b = fleet.login("seongsu.cnc-ctl")
    # Mosquitto 2.0 grants such subscriptions and checks read access on each message.
    for foreign in (f"{B}/cmd", f"{B}/event", f"{ROOT}/#"):
        a.subscribe(foreign)
    assert a.subscribe(f"{A}/cmd") == 1
    scheduler = fleet.login("scheduler")
    assert scheduler.publish(f"{B}/cmd", b'{"action":"enable"}') == 0
    assert b.publish(f"{B}/event", b'{"type":"badge","card":"04A1B2C3"}') == 0
    assert scheduler.publish(f"{A}/cmd", b"for a") == 0
    a.wait_for(f"{A}/cmd", b"for a")
    listener.wait_for(f"{B}/event", b'{"type":"badge","card":"04A1B2C3"}')
    assert a.topics() == {f"{A}/cmd"}
    for account in (a, b, scheduler):
        account.close()


def test_the_scheduler_commands_and_reads_taps_and_acks_and_the_listener_reads_all(fleet, listener):
    scheduler = fleet.login("scheduler")
    assert scheduler.subscribe(f"$share/g/{ROOT}/+/+/event") == 1
    assert scheduler.subscribe(f"{ROOT}/+/+/cmd/ack") == 1
    scheduler.subscribe(f"{ROOT}/+/+/telemetry")
    assert scheduler.publish(f"{A}/telemetry", b"forged") == NOT_AUTHORISED
    b = fleet.login("seongsu.cnc-ctl")
    assert b.subscribe(f"{B}/cmd") == 1
    assert scheduler.publish(f"{B}/cmd", b'{"action":"enable"}') == 0
    b.wait_for(f"{B}/cmd", b'{"action":"enable"}')
    assert b.publish(f"{B}/telemetry", b"{}") == 0
    assert b.publish(f"{B}/event", b"tap") == 0
    assert b.publish(f"{B}/cmd/ack", b"ack") == 0
    scheduler.wait_for(f"{B}/cmd/ack", b"ack")
    scheduler.wait_for(f"{B}/event", b"tap")
    assert f"{B}/telemetry" not in scheduler.topics()
    listener.wait_for(f"{B}/cmd/ack", b"ack")
    assert {f"{B}/cmd", f"{B}/event", f"{B}/cmd/ack"} <= listener.topics()
    assert listener.publish(f"{B}/cmd", b"{}") == NOT_AUTHORISED
    scheduler.close()
    b.close()


def test_a_revoked_device_is_cut_off_once_the_broker_reloads(fleet):
    connected = fleet.login("seongsu.laser-ctl")
    admin_devices.revoke_device(
        session=fleet.session, now=utcnow(), actor=None, device_id=fleet.ids["laser-ctl"]
    )
    fleet.session.commit()
    fleet.regenerate()
    _eventually_refused(fleet, "seongsu.laser-ctl", fleet.passwords["seongsu.laser-ctl"])
    # On reload the broker also closes the session the device still had open.
    assert connected.wait_until(lambda: not connected.client.is_connected())
    connected.close()
    fleet.login("seongsu.cnc-ctl").close()


def test_a_rotated_password_replaces_the_old_one(fleet):
    old = fleet.passwords["seongsu.laser-ctl"]
    issued = admin_devices.rotate_device(
        session=fleet.session, now=utcnow(), actor=None, device_id=fleet.ids["laser-ctl"]
    )
    fleet.session.commit()
    fleet.regenerate()
    _eventually_refused(fleet, "seongsu.laser-ctl", old)
    login(fleet.broker, "seongsu.laser-ctl", issued.password).close()


def _eventually_refused(fleet: Fleet, username: str, password: str) -> None:
    """SIGHUP is asynchronous: the broker takes the new files a moment later."""
    import time

    deadline = time.monotonic() + 5
    while True:
        try:
            login(fleet.broker, username, password).close()
        except Refused:
            return
        assert time.monotonic() < deadline, "the broker still lets the old credentials in"
        time.sleep(0.1)
