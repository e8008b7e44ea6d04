"""The operator's live floor follows a machine's MQTT messages without a reload."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium.webdriver.support.ui import WebDriverWait
from sqlmodel import Session, col, select

from devices.contract import encode_telemetry, topic_for
from service.config import load_settings
from service.models import Device, Resource, ResourceKind, Site
from telemetry.listener import Listener
from telemetry.stores import store_from_settings
from tests.browser.conftest import LiveServer, log_in
from tests.publish import Publisher
from tests.services import Mosquitto

ROOT = Path(__file__).resolve().parents[2]
OPERATOR = "operator@smartfab.example"


@pytest.fixture
def listener(live_server: LiveServer, mosquitto: Mosquitto) -> Iterator[Listener]:
    """`smartfab listen` on the live server's database, in this process."""
    settings = load_settings(
        path=ROOT / "config.toml",
        environ={},
        overrides={
            "database": {"url": str(live_server.engine.url)},
            "mqtt": {"host": mosquitto.host, "port": mosquitto.port, "client_id": "floor-test"},
        },
    )
    store = store_from_settings(settings, live_server.engine)
    running = Listener(settings, live_server.engine, store)
    running.start()
    assert running.wait_connected(10), "listener did not connect"
    yield running
    running.stop()
    store.close()


def a_quiet_machine(live_server: LiveServer) -> tuple[int, str]:
    """A Seongsu machine whose device is not running: its resource id and device slug."""
    with Session(live_server.engine) as session:
        resource, device = session.exec(
            select(Resource, Device)
            .join(Device, col(Device.resource_id) == Resource.id)
            .join(Site, col(Site.id) == Resource.site_id)
            .where(Site.slug == "seongsu", Resource.kind == ResourceKind.machine)
            .where(col(Device.state).is_distinct_from("running"))
            .order_by(col(Resource.id))
        ).first() or (None, None)
    assert resource is not None and device is not None
    return resource.id or 0, device.slug


def stream_open(browser) -> bool:
    """Whether the floor's EventSource has connected (htmx keeps it on the element)."""
    return bool(
        browser.execute_script(
            "const source = (document.querySelector('[sse-connect]') || {})"
            "['htmx-internal-data']?.sseEventSource;"
            "return !!source && source.readyState === 1;"
        )
    )


def shown_state(browser, selector: str) -> str:
    """A tile's state, read in one script: the stream may replace the tile at any moment."""
    return str(browser.execute_script(f"return document.querySelector('{selector}').dataset.state"))


def test_a_machine_switching_to_running_shows_on_the_floor_within_3_s(
    browser, live_server, mosquitto, listener
):
    resource_id, device = a_quiet_machine(live_server)
    log_in(browser, live_server, OPERATOR)
    browser.get(live_server("/ops/floor?site=seongsu"))
    tile = f"#tile-{resource_id} article"
    assert shown_state(browser, tile) != "running"
    WebDriverWait(browser, 10).until(stream_open)

    publisher = Publisher(mosquitto.host, mosquitto.port, client_id="floor-machine")
    sent = time.monotonic()
    publisher.publish(
        [
            (
                topic_for("smartfab", "seongsu", device, "telemetry"),
                encode_telemetry(datetime.now(UTC), "running", {"power_w": 2345.0}),
            )
        ]
    )
    WebDriverWait(browser, 3, poll_frequency=0.05).until(
        lambda b: shown_state(b, tile) == "running"
    )
    took = time.monotonic() - sent
    publisher.close()
    assert took < 3
    assert "2,345 W" in browser.execute_script(
        f"return document.querySelector('{tile}').textContent"
    )
