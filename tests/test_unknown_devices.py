"""Devices nobody registered: one alert per site, bounded however many names, expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, func, select

from devices.contract import Telemetry, encode_telemetry, topic_for
from scheduler.jobs import expire_unknown_devices
from service.models import Alert, AlertKind, DeadLetter, DeadLetterCount
from service.rules.unknown_devices import KEPT_LETTERS, RECENT_NAMES, expire_quiet
from telemetry.derive import apply
from tests.conftest import CURRENT_TIME
from tests.ingest import Listeners
from tests.publish import Publisher, wait_for
from tests.services import Mosquitto

T0 = CURRENT_TIME - timedelta(hours=1)
QUIET = timedelta(minutes=60)


def flood(session, names: list[tuple[str, str]], *, now=CURRENT_TIME, batch: int = 500) -> None:
    """Messages from these (site, device) names, in listener-sized batches."""
    for start in range(0, len(names), batch):
        messages = [
            Telemetry(site, device, T0, None, {"power_w": 1.0})
            for site, device in names[start : start + batch]
        ]
        apply(session=session, now=now, messages=messages)
        session.commit()


def alerts(session) -> list[Alert]:
    session.expire_all()
    return list(session.exec(select(Alert).order_by(col(Alert.id))))


def test_five_thousand_made_up_names_leave_one_alert_per_site(session, world):
    names = [("seongsu", f"ghost-{i}") for i in range(4_000)]
    names += [(f"nowhere-{i}", "x") for i in range(1_000)]
    flood(session, names)
    found = alerts(session)
    assert [(a.kind, a.subject, a.site_id, a.count) for a in found] == [
        (AlertKind.unknown_device, "seongsu/*", world.sites["seongsu"].id, 4_000),
        (AlertKind.unknown_device, "*", None, 1_000),
    ]
    assert found[0].recent == [f"seongsu/ghost-{i}" for i in range(3_999, 3_999 - RECENT_NAMES, -1)]
    assert len(found[1].recent) == RECENT_NAMES
    # Each alert keeps its first messages as dead letters to read, and counts the rest.
    assert session.exec(select(func.count()).select_from(DeadLetter)).one() == 2 * KEPT_LETTERS
    counts = session.exec(select(DeadLetterCount.source, DeadLetterCount.count)).all()
    assert sorted(counts) == [("*", 1_000), ("seongsu/*", 4_000)]


def test_a_new_alert_keeps_its_first_messages_as_dead_letters_again(session, world):
    flood(session, [("seongsu", f"ghost-{i}") for i in range(KEPT_LETTERS - 1)])
    flood(session, [("seongsu", "ghost-x"), ("seongsu", "ghost-y")])
    kept = session.exec(select(DeadLetter.device).order_by(col(DeadLetter.id))).all()
    assert (len(kept), kept[-1]) == (KEPT_LETTERS, "ghost-x")
    later = CURRENT_TIME + QUIET * 2
    expire_quiet(session=session, now=later, quiet=QUIET)
    session.commit()
    flood(session, [("seongsu", "ghost-z")], now=later)
    assert session.exec(select(func.count()).select_from(DeadLetter)).one() == KEPT_LETTERS + 1


def test_a_name_seen_again_moves_to_the_front_once(session, world):
    flood(session, [("seongsu", "a"), ("seongsu", "b")])
    flood(session, [("seongsu", "a")], now=CURRENT_TIME + timedelta(minutes=1))
    [alert] = alerts(session)
    assert (alert.recent, alert.count, alert.last_at) == (
        ["seongsu/a", "seongsu/b"],
        3,
        CURRENT_TIME + timedelta(minutes=1),
    )
    assert alert.opened_at == CURRENT_TIME


def test_the_alert_expires_when_the_site_goes_quiet_and_a_new_one_opens_later(session, world):
    flood(session, [("seongsu", "ghost-1")])
    assert expire_quiet(session=session, now=CURRENT_TIME + QUIET, quiet=QUIET) == 0
    later = CURRENT_TIME + QUIET + timedelta(seconds=1)
    assert expire_quiet(session=session, now=later, quiet=QUIET) == 1
    session.commit()
    flood(session, [("seongsu", "ghost-2")], now=later)
    first, second = alerts(session)
    assert (first.closed_at, first.recent) == (later, ["seongsu/ghost-1"])
    assert (second.closed_at, second.count, second.recent) == (None, 1, ["seongsu/ghost-2"])


def test_the_scheduler_closes_quiet_unknown_device_alerts(engine, session, world, settings):
    flood(session, [("seongsu", "ghost-1")])
    quiet = timedelta(minutes=settings.scheduler.unknown_device_quiet_min)
    closed = expire_unknown_devices(engine=engine, now=CURRENT_TIME + quiet * 2, settings=settings)
    assert closed == 1
    [alert] = alerts(session)
    assert alert.closed_at == CURRENT_TIME + quiet * 2


def test_made_up_names_add_one_dead_letter_counter_per_site(session, world):
    flood(session, [("seongsu", f"ghost-{i}") for i in range(300)] + [("mullae", "x")])
    session.expire_all()
    counts = session.exec(select(DeadLetterCount.source, DeadLetterCount.count)).all()
    assert sorted(counts) == [("mullae/*", 1), ("seongsu/*", 300)]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("store_kind", ["sql"], indirect=True)
def test_five_thousand_names_published_to_the_listener_leave_one_alert(
    listeners: Listeners, mosquitto: Mosquitto, engine, world
) -> None:
    listener = listeners.start()
    publisher = Publisher(mosquitto.host, mosquitto.port)
    sent = datetime.now(UTC) - timedelta(minutes=1)
    try:
        publisher.publish(
            [
                (
                    topic_for("smartfab", "seongsu", f"made-up-{i}", "telemetry"),
                    encode_telemetry(sent, "idle", {"power_w": 1.0}),
                )
                for i in range(5_000)
            ]
        )
        wait_for(lambda: listener.stats.acked == 5_000, timeout=120)
    finally:
        publisher.close()
    with Session(engine) as session:
        found = session.exec(select(Alert.subject, Alert.count)).all()
        counters = session.exec(select(func.count()).select_from(DeadLetterCount)).one()
    assert (found, counters) == ([("seongsu/*", 5_000)], 1)
