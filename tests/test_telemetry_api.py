"""GET /api/v1/status, /resources/{id}/telemetry and /dead-letters, on each telemetry store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session

from devices.contract import (
    InvalidMessage,
    decode,
    encode_event,
    encode_status,
    encode_telemetry,
    topic_for,
)
from service.app import create_app
from service.config import InfluxSettings
from service.models import Reservation
from service.rules.devices import ensure_devices
from telemetry.derive import apply, dead_letter
from telemetry.directory import device_tags, points_for
from telemetry.influx import InfluxTelemetryStore
from telemetry.sqlstore import SqlTelemetryStore
from telemetry.store import TelemetryStore
from tests.conftest import CURRENT_TIME
from tests.factories import World

T0 = CURRENT_TIME - timedelta(minutes=30)


@pytest.fixture(params=["sql", "influx"])
def store(request: pytest.FixtureRequest, engine, tmp_path) -> Iterator[TelemetryStore]:
    """The telemetry store under test; each kind of store adds itself here."""
    store: TelemetryStore
    if request.param == "influx":
        influxdb = request.getfixturevalue("influxdb")
        store = InfluxTelemetryStore(InfluxSettings(**influxdb.settings()), tmp_path / "spool")
    else:
        store = SqlTelemetryStore(engine)
    yield store
    store.close()


@pytest.fixture
def api(settings, engine, store, session: Session, world: World):
    app = create_app(settings, engine, store=store)
    app.config.update(TESTING=True, CLOCK=lambda: CURRENT_TIME)
    for site in world.sites.values():
        ensure_devices(session=session, site=site)
    session.commit()
    return app.test_client()


def ingest(session: Session, store: TelemetryStore, messages: list[tuple[str, bytes]]) -> None:
    """What the listener does with a batch: decode, store points, apply, keep the refused."""
    decoded = []
    for topic, payload in messages:
        try:
            decoded.append(decode(topic, payload, root="smartfab", now=CURRENT_TIME))
        except InvalidMessage as exc:
            dead_letter(
                session=session, now=CURRENT_TIME, topic=topic, reason=exc.reason, payload=payload
            )
    store.write(points_for(decoded, device_tags(session=session)))
    store.flush()
    apply(session=session, now=CURRENT_TIME, messages=decoded)


def telemetry(device: str, minutes: float, state: str | None = None, site="seongsu", **metrics):
    return (
        topic_for("smartfab", site, device, "telemetry"),
        encode_telemetry(T0 + timedelta(minutes=minutes), state, metrics),
    )


def laser_run(session: Session, store: TelemetryStore) -> None:
    """The laser idles, then runs for 20 minutes at 2 kW, reported every minute."""
    ingest(
        session,
        store,
        [(topic_for("smartfab", "seongsu", "laser-1", "status"), encode_status(True))]
        + [telemetry("laser-1", m, "idle", power_w=45.0) for m in range(0, 5)]
        + [telemetry("laser-1", m, "running", power_w=2000.0 + m) for m in range(5, 25)],
    )


def test_operators_see_live_state_of_their_machines_and_rooms(api, session, store, world):
    laser_run(session, store)
    ingest(session, store, [telemetry("meeting-1", 20, occupied=True, people=4, co2_ppm=820)])
    answer = api.get("/api/v1/status", headers=world.headers("operator"))
    assert answer.status_code == 200, answer.json
    by_slug = {r["slug"]: r for r in answer.json}
    assert set(by_slug) == {"laser-1", "cnc-1", "printer-1", "embroidery-1", "meeting-1"}
    laser = by_slug["laser-1"]
    assert (laser["online"], laser["state"], laser["device"]) == (True, "running", "laser-1")
    assert laser["values"]["power_w"] == 2024.0
    assert laser["last_seen"] == "2026-03-02T00:00:00Z"  # the online status, received now
    assert laser["in_use"]["unauthorised"] is True
    assert laser["in_use"]["start"] == "2026-03-01T23:35:00Z"
    assert [a["kind"] for a in laser["alerts"]] == ["unauthorised_use"]
    room = by_slug["meeting-1"]
    assert room["kind"] == "room"
    assert room["values"] == {"occupied": 1.0, "people": 4.0, "co2_ppm": 820.0}
    assert by_slug["cnc-1"]["online"] is False
    assert by_slug["cnc-1"]["in_use"] is None


def test_a_run_within_a_reservation_shows_its_holder(api, session, store, world):
    session.add(
        Reservation(
            resource_id=world.id("laser"),
            account_id=world.id("maker"),
            created_by_id=world.id("maker"),
            start_at=T0,
            end_at=T0 + timedelta(hours=1),
            blocked_until=T0 + timedelta(hours=1),
            created_at=T0,
            updated_at=T0,
        )
    )
    session.commit()
    laser_run(session, store)
    answer = api.get("/api/v1/status?site=seongsu", headers=world.headers("admin"))
    laser = next(r for r in answer.json if r["slug"] == "laser-1")
    assert laser["in_use"]["account_id"] == world.id("maker")
    assert laser["in_use"]["unauthorised"] is False
    assert laser["alerts"] == []


def test_status_shows_each_operator_only_their_sites(api, world):
    mullae = api.get("/api/v1/status", headers=world.headers("mullae_operator"))
    assert [r["slug"] for r in mullae.json] == ["lathe-1"]
    everything = api.get("/api/v1/status", headers=world.headers("admin"))
    assert len(everything.json) == 6
    refused = api.get("/api/v1/status?site=seongsu", headers=world.headers("mullae_operator"))
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    "path", ["/api/v1/status", "/api/v1/dead-letters", "/api/v1/resources/{laser}/telemetry"]
)
def test_makers_may_not_read_status_telemetry_or_dead_letters(api, world, path):
    answer = api.get(path.format(laser=world.id("laser")), headers=world.headers("maker"))
    assert answer.status_code == 403
    assert api.get(path.format(laser=world.id("laser"))).status_code == 401


def test_latest_values_of_a_machine(api, session, store, world):
    laser_run(session, store)
    answer = api.get(
        f"/api/v1/resources/{world.id('laser')}/telemetry", headers=world.headers("operator")
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["ts"] == "2026-03-02T00:00:00Z"  # the online status, received now
    assert answer.json["values"]["power_w"] == 2024.0
    assert answer.json["values"]["state"] == "running"
    assert answer.json["values"]["online"] == 1.0


def test_history_of_a_field_raw_and_downsampled(api, session, store, world):
    laser_run(session, store)
    url = f"/api/v1/resources/{world.id('laser')}/telemetry"
    raw = api.get(
        url,
        query_string={
            "field": "power_w",
            "from": "2026-03-02T08:30:00+09:00",
            "to": "2026-03-02T08:40:00+09:00",
        },
        headers=world.headers("operator"),
    )
    assert raw.status_code == 200, raw.json
    assert [p["value"] for p in raw.json["points"]] == [45.0] * 5 + [
        2000.0 + m for m in range(5, 10)
    ]
    assert raw.json["points"][0]["ts"] == "2026-03-01T23:30:00Z"
    buckets = api.get(
        url,
        query_string={"field": "power_w", "every": "10m"},
        headers=world.headers("operator"),
    )
    assert buckets.status_code == 200, buckets.json
    assert buckets.json["start"] == "2026-03-01T23:00:00Z"
    assert buckets.json["every"] == "10m"
    assert buckets.json["points"] == [
        {"ts": "2026-03-01T23:30:00Z", "value": pytest.approx((5 * 45 + 10035) / 10)},
        {"ts": "2026-03-01T23:40:00Z", "value": pytest.approx(2014.5)},
        {"ts": "2026-03-01T23:50:00Z", "value": pytest.approx(2022.0)},
    ]
    states = api.get(
        url, query_string={"field": "state", "every": "10m"}, headers=world.headers("operator")
    )
    assert [p["value"] for p in states.json["points"]] == ["running"] * 3


def test_a_field_with_no_data_has_an_empty_history(api, session, store, world):
    laser_run(session, store)
    answer = api.get(
        f"/api/v1/resources/{world.id('laser')}/telemetry?field=spindle_rpm",
        headers=world.headers("operator"),
    )
    assert answer.status_code == 200
    assert answer.json["points"] == []


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("field=power_w&every=5x", "validation_error"),
        ("field=power_w&every=0s", "validation_error"),
        ("field=Power W", "validation_error"),
        ("field=power_w&from=2026-03-02T00:00:00", "validation_error"),
        ("field=power_w&from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "invalid_range"),
        ("field=power_w&from=2026-02-01T00:00:00Z&to=2026-03-01T00:00:00Z", "range_too_long"),
        (
            "field=power_w&from=2026-02-01T00:00:00Z&to=2026-03-01T00:00:00Z&every=1s",
            "too_many_buckets",
        ),
        ("every=1m", "field_required"),
        ("color=red", "validation_error"),
    ],
)
def test_a_bad_telemetry_query_is_422_with_a_reason(api, world, query, code):
    answer = api.get(
        f"/api/v1/resources/{world.id('laser')}/telemetry?{query}",
        headers=world.headers("operator"),
    )
    assert answer.status_code == 422, answer.json
    assert answer.json["error"]["code"] == code


def test_telemetry_of_another_site_or_no_resource(api, world):
    other = api.get(
        f"/api/v1/resources/{world.id('lathe')}/telemetry", headers=world.headers("operator")
    )
    assert other.status_code == 403
    missing = api.get("/api/v1/resources/999999/telemetry", headers=world.headers("operator"))
    assert missing.status_code == 404


def test_operators_list_dead_letters_of_their_site_newest_first(api, session, store, world):
    ingest(
        session,
        store,
        [
            (topic_for("smartfab", "seongsu", "laser-1", "telemetry"), b"\x00\xffnot json"),
            (topic_for("smartfab", "seongsu", "laser-1", "telemetry"), b'{"power_w": "high"}'),
            (topic_for("smartfab", "seongsu", "laser-1", "event"), encode_event(None, "alarm")),
            (topic_for("smartfab", "mullae", "lathe-1", "status"), b"maybe"),
            ("garbage/topic", b"x" * 5000),
            telemetry("ghost-9", 1, "running"),
        ],
    )
    answer = api.get("/api/v1/dead-letters", headers=world.headers("operator"))
    assert answer.status_code == 200, answer.json
    assert [(d["device"], d["reason"]) for d in answer.json] == [
        ("ghost-9", "unknown_device"),
        ("laser-1", "unknown_event"),
        ("laser-1", "bad_type"),
        ("laser-1", "not_utf8"),
    ]
    assert answer.json[-1]["payload"] == "\\x00\\xffnot json"
    everything = api.get("/api/v1/dead-letters?limit=2", headers=world.headers("admin"))
    assert [d["reason"] for d in everything.json] == ["unknown_device", "unknown_topic"]
    garbage = everything.json[1]
    assert (garbage["topic"], garbage["site"], garbage["size"]) == ("garbage/topic", None, 5000)
    assert len(garbage["payload"]) == 1024
    older = api.get(
        f"/api/v1/dead-letters?before_id={garbage['id']}&reason=bad_status",
        headers=world.headers("admin"),
    )
    assert [d["site"] for d in older.json] == ["mullae"]


def test_dead_letters_are_counted_per_device_and_reason(api, session, store, world):
    bad = (topic_for("smartfab", "seongsu", "laser-1", "telemetry"), b"[]")
    ingest(session, store, [bad, bad, bad, ("garbage", b"")])
    counts = api.get("/api/v1/dead-letters/counts", headers=world.headers("operator"))
    assert [(c["source"], c["reason"], c["count"]) for c in counts.json] == [
        ("seongsu/laser-1", "not_object", 3)
    ]
    everything = api.get("/api/v1/dead-letters/counts", headers=world.headers("admin"))
    assert {(c["source"], c["count"]) for c in everything.json} == {
        ("seongsu/laser-1", 3),
        ("-", 1),
    }


def test_the_telemetry_operations_are_documented(api):
    paths = api.get("/api/v1/openapi.json").json["paths"]
    assert {
        "/api/v1/status",
        "/api/v1/resources/{resource_id}/telemetry",
        "/api/v1/dead-letters",
    } <= set(paths)


@pytest.mark.parametrize("store", ["influx"], indirect=True)
@pytest.mark.parametrize("query", [{}, {"field": "power_w"}])
def test_telemetry_is_503_while_influxdb_cannot_be_reached(api, request, world, query):
    influxdb = request.getfixturevalue("influxdb")
    influxdb.front.refuse()
    try:
        answer = api.get(
            f"/api/v1/resources/{world.id('laser')}/telemetry",
            query_string=query,
            headers=world.headers("operator"),
        )
    finally:
        influxdb.front.heal()
    assert answer.status_code == 503
    assert answer.json["error"]["code"] == "telemetry_unavailable"
