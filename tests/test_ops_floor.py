"""The operator's live floor: a tile per machine and room, its state, and the stream."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session

from service.models import Alert, AlertKind, Device, ReservationStatus, UsageSession
from tests.conftest import CURRENT_TIME
from tests.factories import make_blackout, make_reservation, seoul
from tests.pages import login
from tests.rental import company, contract

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture(autouse=True)
def english(session, world) -> None:
    """The staff read these pages in English here (the sites' own language is Korean)."""
    for name in ("operator", "admin"):
        world.accounts[name].locale = "en"
        session.add(world.accounts[name])
    session.commit()


def device(session: Session, world, name: str, **kw) -> Device:
    resource = world.resources[name]
    values = {"online": True, "last_seen": CURRENT_TIME - timedelta(seconds=12), **kw}
    found = Device(site_id=resource.site_id, resource_id=resource.id, slug=resource.slug, **values)
    session.add(found)
    session.commit()
    return found


def tile_state(page: str, world, name: str) -> str:
    found = re.search(
        rf'<li id="tile-{world.id(name)}"[^>]*>\s*<article class="tile[^"]*" data-state="(\w+)"',
        page,
    )
    assert found, f"no tile for {name}"
    return found.group(1)


def floor(client, query: str = "") -> str:
    answer = client.get(f"/ops/floor{query}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_an_operator_sees_a_tile_per_machine_and_room_of_their_site(client, world):
    login(client, email="operator@example.com")
    page = floor(client)
    for name in ("laser", "cnc", "printer", "embroidery", "room"):
        assert f'id="tile-{world.id(name)}"' in page
    assert f'id="tile-{world.id("lathe")}"' not in page
    assert tile_state(page, world, "laser") == "offline"
    assert "Never" in page


def test_each_tile_says_its_state_in_words(client, world, session):
    device(session, world, "laser", state="running", last_values={"power_w": 1520.4})
    device(session, world, "cnc", state="fault")
    device(session, world, "printer", state="idle")
    device(session, world, "room", last_values={"occupied": 1})
    device(session, world, "embroidery", online=False)
    login(client, email="operator@example.com")
    page = floor(client)
    assert tile_state(page, world, "laser") == "running"
    assert tile_state(page, world, "cnc") == "fault"
    assert tile_state(page, world, "printer") == "idle"
    assert tile_state(page, world, "room") == "occupied"
    assert tile_state(page, world, "embroidery") == "offline"
    for words in ("Running", "Fault", "Idle", "Occupied", "Offline", "1,520 W", "12 s ago"):
        assert words in page


def test_a_booking_not_started_and_a_blackout_show_on_their_tiles(client, world, session):
    device(session, world, "laser", state="idle")
    device(session, world, "cnc", state="idle")
    make_reservation(
        session,
        world,
        "maker",
        "laser",
        "2026-03-02 08:30",
        "2026-03-02 10:00",
        status=ReservationStatus.confirmed,
    )
    session.commit()
    make_blackout(
        session,
        world.sites["seongsu"],
        CURRENT_TIME - timedelta(hours=1),
        CURRENT_TIME + timedelta(hours=1),
        resource=world.resources["cnc"],
    )
    login(client, email="operator@example.com")
    page = floor(client)
    assert tile_state(page, world, "laser") == "reserved"
    assert "Reserved, not started" in page
    assert "maker" in page and "1 h 0 min" in page and "until 10:00" in page
    assert tile_state(page, world, "cnc") == "blacked_out"


def test_the_running_user_is_named_and_a_room_without_signal_is_offline(client, world, session):
    laser = device(session, world, "laser", state="running")
    session.add(
        UsageSession(
            resource_id=world.id("laser"),
            device_id=laser.id or 0,
            account_id=world.id("other"),
            start_at=seoul("2026-03-02 08:50"),
            last_sample_at=CURRENT_TIME,
        )
    )
    session.commit()
    login(client, email="operator@example.com")
    page = floor(client)
    assert re.search(r"<dt>User</dt><dd>other</dd>", page)
    assert tile_state(page, world, "room") == "offline"


def test_the_kind_filter_keeps_only_rooms(client, world):
    login(client, email="operator@example.com")
    page = floor(client, "?kind=room")
    assert f'id="tile-{world.id("room")}"' in page
    assert f'id="tile-{world.id("laser")}"' not in page


def test_the_sites_open_alerts_are_listed(client, world, session):
    session.add(
        Alert(
            site_id=world.sites["seongsu"].id,
            resource_id=world.id("cnc"),
            kind=AlertKind.fault,
            subject="seongsu/cnc-1",
            message="spindle overload",
            opened_at=CURRENT_TIME - timedelta(minutes=3),
        )
    )
    session.add(
        Alert(
            site_id=world.sites["mullae"].id,
            kind=AlertKind.offline,
            subject="mullae/lathe-1",
            opened_at=CURRENT_TIME,
        )
    )
    session.commit()
    login(client, email="operator@example.com")
    page = floor(client)
    assert "spindle overload" in page
    assert "mullae/lathe-1" not in page


def test_an_operator_cannot_open_another_sites_floor(client, world):
    login(client, email="operator@example.com")
    assert client.get("/ops/floor?site=mullae").status_code == 403
    assert client.get("/ops/floor/stream?site=mullae").status_code == 403


def test_an_admin_chooses_any_site(client, world):
    login(client, email="admin@example.com")
    page = floor(client, "?site=mullae")
    assert f'id="tile-{world.id("lathe")}"' in page
    assert "Floor · 문래 기계금속" in page or "문래 기계금속" in page


def test_makers_are_refused(client, world):
    login(client)
    assert client.get("/ops/floor").status_code == 403
    assert client.get("/ops/floor/stream").status_code == 403


def test_each_tile_links_to_its_machine_page(client, world):
    login(client, email="operator@example.com")
    page = client.get("/ops/floor?site=seongsu").get_data(as_text=True)
    assert 'href="/ops/machines/seongsu/laser-1"' in page


def _events(chunks, count: int) -> list[tuple[str, str]]:
    """The first `count` named events of a stream, as (name, data)."""
    found: list[tuple[str, str]] = []
    buffer = ""
    for chunk in chunks:
        buffer += chunk.decode()
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            lines = block.splitlines()
            names = [line[7:] for line in lines if line.startswith("event: ")]
            if names:
                data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
                found.append((names[0], data))
                if len(found) == count:
                    return found
    return found


def test_the_stream_sends_a_tile_again_once_its_device_changes(app, client, world, session):
    laser = device(session, world, "laser", state="idle")
    login(client, email="operator@example.com")
    page = floor(client)
    answer = client.get("/ops/floor/stream", buffered=False)
    assert answer.status_code == 200
    assert answer.mimetype == "text/event-stream"
    chunks = answer.response
    # First every tile and the alerts, as the page drew them.
    first = dict(_events(chunks, 6))
    tile_name = f"tile-{world.id('laser')}"
    assert set(first) == {f"tile-{world.id(n)}" for n in world.resources if n != "lathe"} | {
        "alerts"
    }
    assert first[tile_name] in page
    laser.state = "running"
    laser.state_since = laser.last_seen = CURRENT_TIME
    laser.last_values = {"power_w": 900}
    session.add(laser)
    session.commit()
    [(name, data)] = _events(chunks, 1)
    assert name == tile_name
    assert 'data-state="running"' in data and "900 W" in data
    answer.close()


def test_a_server_with_a_fixed_thread_pool_streams_to_half_its_threads(app, client, world):
    from service.pages.floor import _stream_slots

    # waitress marks its requests with this key; werkzeug's server starts a thread each.
    pooled = {"waitress.client_disconnected": lambda: False}
    with app.test_request_context(environ_base=pooled):
        slots = _stream_slots()
    with app.test_request_context():
        assert _stream_slots() is None
    assert slots is not None
    threads = app.config["SMARTFAB"].web.threads
    taken = [slots.acquire(blocking=False) for _ in range(threads // 2)]
    assert all(taken) and not slots.acquire(blocking=False)
    login(client, email="operator@example.com")
    assert client.get("/ops/floor/stream", environ_base=pooled).status_code == 204
    slots.release()
    answer = client.get("/ops/floor/stream", environ_base=pooled, buffered=False)
    assert answer.status_code == 200
    answer.close()
    assert slots.acquire(blocking=False)


def test_a_room_let_today_is_let_on_the_floor_not_free(client, world, session):
    device(session, world, "room")
    login(client, email="operator@example.com")
    assert tile_state(floor(client), world, "room") == "free"
    contract(session, world, "2026-03-02", "2026-03-02", firm=company(session))
    page = floor(client)
    assert tile_state(page, world, "room") == "rented"
    assert "Let to a tenant" in page
