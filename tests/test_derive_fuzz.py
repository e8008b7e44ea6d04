"""Whatever arrives, the pipeline decodes and applies it or keeps it as a dead letter."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from devices.contract import CommandAck, InvalidMessage, decode
from service.models import DeadLetterCount, Device
from service.rules.devices import ensure_devices
from telemetry.derive import apply, dead_letter
from telemetry.directory import device_tags, points_for
from telemetry.sqlstore import SqlTelemetryStore
from tests.conftest import CURRENT_TIME

KINDS = ["telemetry", "event", "status", "cmd", "cmd/ack", "other"]
DEVICES = ["laser-1", "cnc-1", "meeting-1", "ghost-1", "Laser 1"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
near = st.timedeltas(min_value=timedelta(hours=-2), max_value=timedelta(minutes=1))
timestamps = st.one_of(
    near.map(lambda d: (CURRENT_TIME + d).isoformat()),
    near.map(lambda d: int((CURRENT_TIME + d).timestamp() * 1000)),
    st.timedeltas(min_value=timedelta(days=-9), max_value=timedelta(days=1)).map(
        lambda d: (CURRENT_TIME + d).isoformat()
    ),
    st.integers(min_value=-10, max_value=2 * 10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
numbers = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6), st.integers(-(10**6), 10**6), st.booleans()
)
telemetry = st.fixed_dictionaries(
    {},
    optional={
        "ts": timestamps,
        "state": st.sampled_from(["off", "idle", "running", "running", "fault", "on"]),
        "power_w": numbers,
        "energy_wh": st.floats(min_value=0, max_value=1e9),
        "temp_c": numbers,
        "people": numbers,
    },
)
events = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("badge"),
            "card": st.sampled_from(["04A1B2C3", "04a1b2c3d4e5f6", "xyz", 12]),
        }
    ),
    st.fixed_dictionaries({"type": st.just("door"), "open": st.sampled_from([True, False, "yes"])}),
    st.fixed_dictionaries(
        {"type": st.just("job"), "phase": st.sampled_from(["start", "end", "x"])}
    ),
    st.fixed_dictionaries({"type": st.sampled_from(["alarm", 3, None])}),
)
ack = st.fixed_dictionaries(
    {"id": st.sampled_from(["c-1", "", 5, None, True]), "ok": st.sampled_from([True, False, "1"])}
)


def _spoil(body: dict):
    """A well-formed body, sometimes with one key overwritten by an arbitrary value."""
    return st.one_of(
        st.just(body),
        st.tuples(st.sampled_from([*body, "ts", "x", "Bad Key", "time"]), json_values).map(
            lambda kv: {**body, kv[0]: kv[1]}
        ),
    )


def _shaped(kind: str, bodies) -> st.SearchStrategy[tuple[str, bytes]]:
    return st.tuples(
        st.sampled_from(DEVICES).map(lambda d: f"smartfab/seongsu/{d}/{kind}"),
        bodies.flatmap(_spoil).map(lambda b: json.dumps(b).encode()),
    )


raw_payloads = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([b"online", b"offline", b" online\n", b"\x00\xff", b"{}", b"[]"]),
    json_values.map(lambda v: json.dumps(v).encode()),
    telemetry.map(lambda o: json.dumps(o).encode() + b" " * 70_000),
)
raw_topics = st.one_of(
    st.builds(
        lambda site, device, kind: f"smartfab/{site}/{device}/{kind}",
        st.sampled_from(["seongsu", "mullae", "nowhere"]),
        st.sampled_from(DEVICES),
        st.sampled_from(KINDS),
    ),
    st.text(max_size=40),
)
messages = st.one_of(
    _shaped("telemetry", telemetry),
    _shaped("telemetry", telemetry),
    _shaped("event", events),
    _shaped("cmd/ack", ack),
    st.tuples(
        st.sampled_from(DEVICES).map(lambda d: f"smartfab/seongsu/{d}/status"),
        st.sampled_from([b"online", b"offline", b"gone"]),
    ),
    st.tuples(raw_topics, raw_payloads),
)


def _counted(session: Session) -> int:
    """Dead letters counted so far (rows are bounded for unknown devices, counts are not)."""
    total = select(func.coalesce(func.sum(DeadLetterCount.count), 0))
    return int(session.exec(total).one())


@pytest.fixture
def pipeline(session: Session, world, engine):
    for site in world.sites.values():
        ensure_devices(session=session, site=site)
    session.commit()
    return SqlTelemetryStore(engine), device_tags(session=session)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(messages, min_size=1, max_size=8))
def test_generated_messages_never_escape_as_exceptions(session, pipeline, messages):
    store, directory = pipeline
    before = _counted(session)
    decoded, refused = [], 0
    for topic, payload in messages:
        try:
            decoded.append(decode(topic, payload, root="smartfab", now=CURRENT_TIME))
            event("decoded")
        except InvalidMessage as exc:
            event(exc.reason)
            refused += 1
            dead_letter(
                session=session, now=CURRENT_TIME, topic=topic, reason=exc.reason, payload=payload
            )
    session.commit()
    store.write(points_for(decoded, directory))
    dead = apply(session=session, now=CURRENT_TIME, messages=decoded)
    session.commit()
    # Unknown devices, and acks naming no command (these devices have none), are refused.
    unknown = sum((m.site, m.device) not in directory for m in decoded)
    acks = sum(isinstance(m, CommandAck) and (m.site, m.device) in directory for m in decoded)
    assert dead == unknown + acks
    assert _counted(session) - before == refused + dead
    assert session.exec(select(func.count()).select_from(Device)).one() == len(directory)
