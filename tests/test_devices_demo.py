"""`smartfab demo`'s moving parts: an embedded broker, the listener, the scheduler and
simulated devices for the seeded machines and rooms; live status and usage show up
quickly, and stopping hands everything on before the broker goes."""

from __future__ import annotations

import time

import pytest
from sqlmodel import Session, col, func, select

from devices.broker import EmbeddedBroker, free_port, port_free
from service.app import create_app
from service.demo_data import seed_demo
from service.demo_stack import DemoStack
from service.models import DeadLetter, Device, UsageSession
from tests.mqtt_accounts import Refused, login


def _wait(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def _count(session: Session, statement) -> int:
    session.rollback()  # a fresh transaction sees what the listener committed since
    return session.exec(statement).one()


@pytest.mark.parametrize("broker", ["mosquitto", "rumqttd"])
def test_the_demo_shows_live_status_and_usage_then_stops_cleanly(
    broker, settings, engine, session, tmp_path
):
    seed_demo(session=session)
    settings = settings.model_copy(
        update={"mqtt": settings.mqtt.model_copy(update={"host": "", "port": free_port()})}
    )
    stack = DemoStack(settings, engine, workdir=tmp_path / "mqtt", broker_engine=broker, speed=30)
    live = stack.start()
    try:
        assert stack.broker is not None and stack.broker.engine == broker
        assert live.mqtt.host == "127.0.0.1" and live.mqtt.port == stack.broker.port
        if broker == "mosquitto":
            # The demo's Mosquitto is locked down like a real one: every client has an account.
            with pytest.raises(Refused):
                login(stack.broker, None)
            assert live.mqtt.username == "demo-listener"
        assert stack.simulator is not None
        devices = len(stack.simulator.devices)  # every active machine and room
        assert devices > 30
        online = select(func.count()).select_from(Device).where(col(Device.online).is_(True))
        reported = select(func.count()).select_from(Device).where(col(Device.last_ts).is_not(None))
        _wait(lambda: _count(session, online) == devices == _count(session, reported))
        _wait(lambda: _count(session, select(func.count()).select_from(UsageSession)) > 0)
        client = create_app(live, engine).test_client()
        token = client.post(
            "/api/v1/auth/token",
            json={"email": "admin@smartfab.example", "password": "smartfab-demo"},
        ).json["token"]
        status = client.get("/api/v1/status", headers={"Authorization": f"Bearer {token}"}).json
        assert sum(1 for r in status if r["online"]) == devices
        assert any(r["in_use"] for r in status)
        assert all(
            "power_w" in r["values"] for r in status if r["kind"] == "machine" and r["online"]
        )
    finally:
        simulator, listener = stack.simulator, stack.listener
        stack.stop()
    assert simulator is not None and listener is not None
    # Every device said offline before the broker went, and the listener took it all in.
    assert listener.stats.received >= simulator.published
    assert _count(session, online) == 0
    still_open = (
        select(func.count()).select_from(UsageSession).where(col(UsageSession.end_at).is_(None))
    )
    assert _count(session, still_open) == 0
    assert _count(session, select(func.count()).select_from(DeadLetter)) == 0
    assert port_free("127.0.0.1", live.mqtt.port)


def test_the_embedded_broker_takes_another_port_when_the_configured_one_is_taken(tmp_path):
    with EmbeddedBroker(tmp_path / "a", port=free_port()) as first:
        second = EmbeddedBroker(tmp_path / "b", port=first.port, engine="rumqttd")
        with second:
            assert second.port != first.port
            assert not port_free("127.0.0.1", second.port)
        assert port_free("127.0.0.1", second.port)
