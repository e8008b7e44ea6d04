"""The MQTT contract: topics and payloads decode into messages, or fail with a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from devices.contract import (
    MAX_PAYLOAD,
    Command,
    CommandAck,
    Event,
    InvalidMessage,
    Status,
    Telemetry,
    decode,
    decode_command,
    encode_command,
    encode_event,
    encode_telemetry,
    parse_topic,
    topic_filter,
    topic_for,
)

NOW = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
ROOT = "smartfab"


def _decode(kind: str, payload: bytes | str | dict, device: str = "laser-1"):
    if isinstance(payload, dict):
        payload = json.dumps(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    return decode(topic_for(ROOT, "seongsu", device, kind), payload, root=ROOT, now=NOW)


def _reason(kind: str, payload: bytes | str | dict) -> str:
    with pytest.raises(InvalidMessage) as caught:
        _decode(kind, payload)
    return caught.value.reason


def test_topic_names_site_device_and_kind():
    parts = parse_topic("smartfab/seongsu/laser-1/cmd/ack", root=ROOT)
    assert (parts.site, parts.device, parts.kind) == ("seongsu", "laser-1", "cmd/ack")
    assert topic_for(ROOT, "mullae", "lathe-1", "telemetry") == "smartfab/mullae/lathe-1/telemetry"


def test_a_topic_filter_covers_every_device_alone_or_in_a_shared_group():
    assert topic_filter("sf") == "sf/+/+/#"
    assert topic_filter("sf", "cmd/ack", group="sched") == "$share/sched/sf/+/+/cmd/ack"


def test_a_topic_under_another_root_is_refused_unless_any_root_is_asked_for():
    with pytest.raises(InvalidMessage):
        parse_topic("other/seongsu/laser-1/event", root=ROOT)
    assert parse_topic("other/seongsu/laser-1/event", root=None).root == "other"


def test_a_decoded_message_keeps_its_payload_as_received():
    payload = b'{ "state" : "idle",  "power_w": 1e1 }'
    assert _decode("telemetry", payload).payload == payload


@pytest.mark.parametrize(
    "topic",
    [
        "other/seongsu/laser-1/telemetry",
        "smartfab/seongsu/telemetry",
        "smartfab/seongsu/laser-1/telemetry/extra",
        "smartfab/seongsu/laser 1/telemetry",
        "smartfab/seongsu/laser-1/metrics",
    ],
)
def test_a_topic_outside_the_contract_is_unknown_topic(topic):
    with pytest.raises(InvalidMessage) as caught:
        decode(topic, b"{}", root=ROOT, now=NOW)
    assert caught.value.reason == "unknown_topic"


def test_telemetry_with_rfc3339_time_state_and_metrics():
    message = _decode(
        "telemetry",
        {"ts": "2026-03-02T08:59:30+09:00", "state": "running", "power_w": 2100, "temp_c": 41.5},
    )
    assert message == Telemetry(
        "seongsu",
        "laser-1",
        datetime(2026, 3, 1, 23, 59, 30, tzinfo=UTC),
        "running",
        {"power_w": 2100.0, "temp_c": 41.5},
    )


def test_telemetry_time_may_be_epoch_milliseconds_or_absent():
    epoch_ms = int((NOW - timedelta(seconds=5)).timestamp() * 1000)
    assert _decode("telemetry", {"ts": epoch_ms, "power_w": 1}).ts == NOW - timedelta(seconds=5)
    assert _decode("telemetry", {"power_w": 1}).ts == NOW


def test_room_occupancy_may_be_a_boolean():
    message = _decode("telemetry", {"occupied": True, "people": 3, "co2_ppm": 650})
    assert message.metrics == {"occupied": 1.0, "people": 3.0, "co2_ppm": 650.0}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe", "not_utf8"),
        ("{not json", "not_json"),
        ("[1, 2]", "not_object"),
        ('{"power_w": NaN}', "not_json"),
        ("[" * 100_000 + "]" * 100_000, "too_large"),
        ("[" * 20_000 + "]" * 20_000, "not_json"),
        ({"power_w": "2100"}, "bad_type"),
        ({"power_w": [1]}, "bad_type"),
        ({"power_w": 1e400}, "not_json"),
        ({"power_w": 10**400}, "bad_value"),
        ({"state": "dancing"}, "bad_state"),
        ({"Power W": 1}, "bad_metric_name"),
        ({"time": 1}, "bad_metric_name"),
        ({}, "empty"),
        ({"ts": "2026-03-02T00:00:00", "power_w": 1}, "bad_ts"),
        ({"ts": "yesterday", "power_w": 1}, "bad_ts"),
        ({"ts": True, "power_w": 1}, "bad_ts"),
        ({"ts": -5, "power_w": 1}, "bad_ts"),
        ({"ts": 10**15, "power_w": 1}, "bad_ts"),
        ({"ts": "2026-03-02T00:10:00Z", "power_w": 1}, "ts_in_future"),
        ({"ts": "2026-02-20T00:00:00Z", "power_w": 1}, "ts_past"),
        ({f"m{i}": i for i in range(65)}, "too_many_metrics"),
    ],
)
def test_bad_telemetry_is_refused_with_a_reason(payload, reason):
    assert _reason("telemetry", payload) == reason


def test_a_payload_over_the_limit_is_too_large():
    assert _reason("telemetry", b" " * (MAX_PAYLOAD + 1)) == "too_large"


def test_events_badge_door_and_job():
    assert _decode("event", {"type": "badge", "card": "04a1b2c3"}) == Event(
        "seongsu", "laser-1", NOW, "badge", {"card": "04A1B2C3"}
    )
    assert _decode("event", {"type": "door", "open": True}).data == {"open": True}
    assert _decode("event", {"type": "job", "phase": "start"}).data == {"phase": "start"}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"type": "badge"}, "bad_card"),
        ({"type": "badge", "card": "xyz"}, "bad_card"),
        ({"type": "door", "open": "yes"}, "bad_type"),
        ({"type": "job", "phase": "later"}, "bad_phase"),
        ({"type": "alarm"}, "unknown_event"),
    ],
)
def test_bad_events_are_refused_with_a_reason(payload, reason):
    assert _reason("event", payload) == reason


def test_status_is_online_offline_or_stopped_at_the_time_received():
    assert _decode("status", "online") == Status("seongsu", "laser-1", True, NOW)
    assert _decode("status", b"offline\n") == Status("seongsu", "laser-1", False, NOW)
    # Offline on purpose: the device said so itself before it disconnected.
    assert _decode("status", "stopped") == Status("seongsu", "laser-1", False, NOW, planned=True)
    assert _reason("status", "maybe") == "bad_status"


def test_command_ack():
    assert _decode("cmd/ack", {"id": "c-1", "ok": False}) == CommandAck(
        "seongsu", "laser-1", "c-1", False, NOW
    )
    assert _reason("cmd/ack", {"id": "c-1"}) == "bad_type"
    assert _reason("cmd/ack", {"id": "", "ok": True}) == "bad_id"


def test_commands_are_outbound_only():
    assert _reason("cmd", {"id": "c-1", "action": "enable"}) == "not_inbound"


def test_a_command_round_trips_through_its_payload():
    command = Command(
        id="c-42",
        action="warn",
        reservation=7,
        until=datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
        message="5분 후 예약 종료",
    )
    payload = encode_command(command)
    assert json.loads(payload) == {
        "id": "c-42",
        "action": "warn",
        "reservation": 7,
        "until": "2026-03-02T01:00:00.000Z",
        "message": "5분 후 예약 종료",
    }
    assert decode_command(payload) == command


def test_a_command_with_an_unknown_action_is_not_encoded():
    with pytest.raises(ValueError, match="unknown action"):
        encode_command(Command(id="c-1", action="explode"))
    with pytest.raises(InvalidMessage) as caught:
        decode_command(b'{"id": "c-1", "action": "explode"}')
    assert caught.value.reason == "bad_action"


def test_encoded_telemetry_and_events_decode_back():
    ts = NOW - timedelta(seconds=1)
    payload = encode_telemetry(ts, "idle", {"power_w": 12.5, "energy_wh": 100.0})
    message = _decode("telemetry", payload)
    assert (message.ts, message.state, message.metrics["energy_wh"]) == (ts, "idle", 100.0)
    assert _decode("event", encode_event(ts, "badge", card="04A1B2C3")).data["card"] == "04A1B2C3"
