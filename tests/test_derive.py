"""Device messages become live status, usage sessions and alerts in SQL."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from devices.contract import Event, Status, Telemetry
from service.models import (
    Account,
    Alert,
    DeadLetter,
    DeadLetterCount,
    Device,
    Reservation,
    ReservationStatus,
    UsageSession,
)
from service.rules.devices import ensure_devices, mark_stale_offline
from telemetry.derive import apply
from telemetry.directory import DeviceTags, device_tags, points_for
from tests.conftest import CURRENT_TIME
from tests.factories import World

T0 = CURRENT_TIME - timedelta(hours=1)


@pytest.fixture
def devices(session: Session, world: World) -> dict[str, Device]:
    for site in world.sites.values():
        ensure_devices(session=session, site=site)
    session.commit()
    return {d.slug: d for d in session.exec(select(Device))}


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def sample(minutes: float, state: str | None = None, device: str = "laser-1", **metrics: float):
    return Telemetry("seongsu", device, at(minutes), state, dict(metrics))


def status(minutes: float, online: bool, device: str = "laser-1") -> Status:
    return Status("seongsu", device, online, at(minutes))


def run(session: Session, *messages, now: datetime = CURRENT_TIME) -> None:
    """Apply a batch and commit it, as the listener does."""
    apply(session=session, now=now, messages=list(messages))
    session.commit()


def usages(session: Session) -> list[UsageSession]:
    session.expire_all()
    return list(session.exec(select(UsageSession).order_by(col(UsageSession.id))))


def open_alerts(session: Session) -> set[tuple[str, str]]:
    session.expire_all()
    alerts = session.exec(select(Alert).where(col(Alert.closed_at).is_(None))).all()
    return {(a.kind, a.subject) for a in alerts}


def reserve(session: Session, world: World, start: datetime, end: datetime, **kw) -> Reservation:
    reservation = Reservation(
        resource_id=world.id("laser"),
        account_id=world.id("maker"),
        created_by_id=world.id("maker"),
        start_at=start,
        end_at=end,
        blocked_until=end,
        created_at=T0 - timedelta(days=1),
        updated_at=T0 - timedelta(days=1),
        **kw,
    )
    session.add(reservation)
    session.commit()
    return reservation


def test_every_resource_of_a_site_gets_one_device_and_only_once(session, world, devices):
    assert set(devices) == {r.slug for r in world.resources.values()}
    assert devices["laser-1"].resource_id == world.id("laser")
    assert ensure_devices(session=session, site=world.sites["seongsu"]) == []


def test_running_within_a_reservation_starts_a_session_of_its_holder(session, world, devices):
    reservation = reserve(session, world, at(0), at(60))
    run(session, sample(5, "idle", power_w=40), sample(6, "running", power_w=2000))
    [usage] = usages(session)
    assert usage.reservation_id == reservation.id
    assert usage.account_id == world.id("maker")
    assert (usage.walk_in, usage.unauthorised, usage.start_at, usage.end_at) == (
        False,
        False,
        at(6),
        None,
    )
    assert open_alerts(session) == set()


def test_a_run_started_within_the_check_in_window_belongs_to_the_reservation(
    session, world, devices
):
    reservation = reserve(session, world, at(10), at(60))
    run(session, sample(0, "running", power_w=2000))
    [usage] = usages(session)
    assert (usage.reservation_id, usage.account_id) == (reservation.id, world.id("maker"))
    assert (usage.walk_in, usage.unauthorised) == (False, False)
    assert open_alerts(session) == set()


def test_a_run_started_before_the_check_in_window_is_unauthorised(session, world, devices):
    reserve(session, world, at(20), at(60))
    run(session, sample(0, "running", power_w=2000))
    [usage] = usages(session)
    assert (usage.reservation_id, usage.unauthorised) == (None, True)


def test_a_cancelled_reservation_does_not_entitle(session, world, devices):
    reserve(session, world, at(0), at(60), status=ReservationStatus.cancelled)
    run(session, sample(6, "running", power_w=2000))
    [usage] = usages(session)
    assert (usage.reservation_id, usage.unauthorised) == (None, True)


def test_leaving_running_ends_the_session_with_run_time_and_metered_energy(session, world, devices):
    reserve(session, world, at(0), at(60))
    run(
        session,
        sample(0, "running", power_w=2000, energy_wh=1000),
        sample(10, "running", power_w=2000, energy_wh=1330),
        sample(30, "idle", power_w=50, energy_wh=2010),
    )
    [usage] = usages(session)
    assert usage.end_at == at(30)
    assert usage.ended_by == "state"
    assert usage.run_seconds == 30 * 60
    assert usage.energy_wh == pytest.approx(1010)


def test_without_a_meter_energy_is_integrated_from_power(session, world, devices):
    run(
        session,
        sample(0, "running", power_w=3000),
        sample(20, "running", power_w=1500),
        sample(40, "idle", power_w=0),
    )
    [usage] = usages(session)
    # 3 kW for 20 min, then 1.5 kW for 20 min.
    assert usage.energy_wh == pytest.approx(1000 + 500)


def test_a_meter_reset_counts_from_zero(session, world, devices):
    run(
        session,
        sample(0, "running", energy_wh=900),
        sample(10, "running", energy_wh=1000),
        sample(20, "running", energy_wh=40),
        sample(30, "idle", energy_wh=90),
    )
    assert usages(session)[0].energy_wh == pytest.approx(100 + 40 + 50)


def test_running_without_reservation_is_unauthorised_and_raises_an_alert(session, world, devices):
    run(session, sample(1, "running", power_w=2000))
    [usage] = usages(session)
    assert (usage.unauthorised, usage.walk_in, usage.reservation_id) == (True, False, None)
    assert open_alerts(session) == {("unauthorised_use", "seongsu/laser-1")}
    run(session, sample(2, "idle"))
    assert open_alerts(session) == set()
    assert session.exec(select(Alert)).one().closed_at == CURRENT_TIME


def test_a_run_within_a_walk_in_reservation_is_a_walk_in(session, world, devices):
    world.resources["laser"].walk_in_allowed = True
    session.commit()
    reservation = reserve(session, world, at(0), at(60), walk_in=True)
    run(session, sample(2, "running", power_w=2000))
    [usage] = usages(session)
    assert (usage.walk_in, usage.unauthorised) == (True, False)
    assert (usage.reservation_id, usage.account_id) == (reservation.id, world.id("maker"))
    assert open_alerts(session) == set()


def test_a_walk_in_machine_run_without_reservation_is_unauthorised_and_names_the_badge(
    session, world, devices
):
    laser = world.resources["laser"]
    laser.walk_in_allowed = True
    maker = session.get(Account, world.id("maker"))
    maker.card_uid = "04A1B2C3"
    session.commit()
    # A tap the reader denied leaves no reservation behind.
    run(
        session,
        Event("seongsu", "laser-1", at(0), "badge", {"card": "04A1B2C3"}),
        sample(2, "running", power_w=2000),
    )
    [usage] = usages(session)
    assert (usage.walk_in, usage.unauthorised, usage.account_id) == (False, True, maker.id)
    assert open_alerts(session) == {("unauthorised_use", "seongsu/laser-1")}


def test_an_alert_raised_and_cleared_in_one_batch_is_kept_closed(session, world, devices):
    run(session, sample(0, "idle"), sample(1, "running"), sample(2, "idle"))
    session.expire_all()
    alerts = session.exec(select(Alert).where(Alert.kind == "unauthorised_use")).all()
    assert [(a.subject, a.opened_at, a.closed_at) for a in alerts] == [
        ("seongsu/laser-1", CURRENT_TIME, CURRENT_TIME)
    ]
    assert open_alerts(session) == set()


def test_a_walk_in_machine_run_without_badge_or_reservation_is_unauthorised(
    session, world, devices
):
    world.resources["laser"].walk_in_allowed = True
    session.commit()
    run(session, sample(2, "running", power_w=2000))
    [usage] = usages(session)
    assert (usage.walk_in, usage.unauthorised, usage.account_id) == (False, True, None)
    assert open_alerts(session) == {("unauthorised_use", "seongsu/laser-1")}


def test_a_badge_tap_long_before_does_not_name_the_user(session, world, devices):
    world.resources["laser"].walk_in_allowed = True
    session.get(Account, world.id("maker")).card_uid = "04A1B2C3"
    session.commit()
    run(
        session,
        Event("seongsu", "laser-1", at(0), "badge", {"card": "04A1B2C3"}),
        sample(30, "running"),
    )
    assert usages(session)[0].account_id is None


def test_live_status_keeps_state_last_values_and_last_seen(session, world, devices):
    run(
        session,
        status(0, True),
        sample(1, "running", power_w=2000, temp_c=40),
        sample(2, power_w=2100),
        Event("seongsu", "laser-1", at(3), "door", {"open": True}),
    )
    session.expire_all()
    device = session.get(Device, devices["laser-1"].id)
    assert (device.online, device.state, device.state_since) == (True, "running", at(1))
    assert device.last_values == {
        "state": "running",
        "power_w": 2100,
        "temp_c": 40,
        "door_open": True,
    }
    assert device.last_seen == at(3)


def test_fault_raises_an_alert_that_closes_when_the_fault_clears(session, world, devices):
    run(session, sample(0, "idle"), sample(1, "fault"))
    assert open_alerts(session) == {("fault", "seongsu/laser-1")}
    run(session, sample(2, "fault"))
    assert len(session.exec(select(Alert)).all()) == 1
    run(session, sample(3, "idle"))
    assert open_alerts(session) == set()


def test_offline_status_ends_the_session_at_the_last_sample(session, world, devices):
    reserve(session, world, at(0), at(60))
    run(session, status(0, True), sample(1, "running", power_w=2000), sample(5, "running"))
    run(session, status(9, False))
    [usage] = usages(session)
    assert (usage.end_at, usage.ended_by, usage.run_seconds) == (at(5), "offline", 240)
    assert open_alerts(session) == {("offline", "seongsu/laser-1")}
    assert session.get(Device, devices["laser-1"].id).online is False
    run(session, status(10, True), sample(11, "running"))
    assert open_alerts(session) == set()
    assert [u.start_at for u in usages(session)] == [at(1), at(11)]


def test_a_silent_device_is_marked_offline_once(session, world, devices):
    run(session, sample(0, "running", device="cnc-1"), sample(58, "idle", device="printer-1"))
    now = at(60)
    assert mark_stale_offline(session=session, now=now, after_s=180) == 1
    assert mark_stale_offline(session=session, now=now, after_s=180) == 0
    session.expire_all()
    assert session.get(Device, devices["cnc-1"].id).online is False
    assert session.get(Device, devices["printer-1"].id).online is True
    assert open_alerts(session) == {
        ("offline", "seongsu/cnc-1"),
        ("unauthorised_use", "seongsu/cnc-1"),
    }
    [usage] = usages(session)
    assert (usage.end_at, usage.ended_by) == (at(0), "stale")


def test_the_same_messages_twice_change_nothing(session, world, devices):
    batch = [
        sample(0, "running", power_w=2000, energy_wh=10),
        sample(10, "running", power_w=2000, energy_wh=340),
        sample(20, "idle", power_w=40, energy_wh=670),
        sample(30, "running", power_w=2000, energy_wh=671),
    ]
    run(session, *batch)
    first = [(u.start_at, u.end_at, u.run_seconds, u.energy_wh) for u in usages(session)]
    run(session, *batch)
    run(session, *batch[1:3])
    again = [(u.start_at, u.end_at, u.run_seconds, u.energy_wh) for u in usages(session)]
    assert again == first
    assert first[0] == (at(0), at(20), 1200, pytest.approx(660))
    assert len(first) == 2


def test_a_shuffled_batch_gives_the_same_sessions_as_an_ordered_one(session, world, devices):
    states = ["idle", "running", "running", "idle", "running", "fault", "idle"] * 3
    batch = [
        sample(i, state, power_w=100 * i, energy_wh=10.0 * i) for i, state in enumerate(states)
    ]
    random.Random(7).shuffle(batch)
    run(session, *batch)
    got = [(u.start_at, u.end_at, u.energy_wh) for u in usages(session)]
    expected_starts = [at(i) for i in (1, 4, 8, 11, 15, 18)]
    assert [g[0] for g in got] == expected_starts
    assert [g[1] for g in got] == [at(i) for i in (3, 5, 10, 12, 17, 19)]
    assert got[0][2] == pytest.approx(20)


def test_a_straggler_older_than_the_last_sample_moves_no_edge(session, world, devices):
    run(session, sample(0, "running"), sample(10, "idle"))
    run(session, sample(5, "running", power_w=9999))
    [usage] = usages(session)
    assert (usage.start_at, usage.end_at) == (at(0), at(10))
    device = session.get(Device, devices["laser-1"].id)
    assert (device.state, device.last_ts) == ("idle", at(10))


def test_an_unknown_device_is_dead_lettered_and_alerted(session, world, devices, caplog):
    sent = b'{"state": "running"}'
    run(
        session,
        replace(sample(0, "running", device="ghost-7"), payload=sent),
        sample(1, "running", device="ghost-7"),
        Telemetry("nowhere", "x", at(1), None, {"power_w": 1}),
    )
    letters = session.exec(select(DeadLetter).order_by(col(DeadLetter.id))).all()
    assert [(d.topic, d.reason) for d in letters] == [
        ("smartfab/seongsu/ghost-7/telemetry", "unknown_device"),
        ("smartfab/seongsu/ghost-7/telemetry", "unknown_device"),
        ("smartfab/nowhere/x/telemetry", "unknown_device"),
    ]
    assert letters[0].payload == sent
    counts = {(c.source, c.reason): c.count for c in session.exec(select(DeadLetterCount))}
    # Counted per site too, so that made-up names add no counters.
    assert counts == {("seongsu/*", "unknown_device"): 2, ("*", "unknown_device"): 1}
    # One alert per site for all its unregistered devices; one for sites unknown too.
    assert open_alerts(session) == {("unknown_device", "seongsu/*"), ("unknown_device", "*")}
    alert = session.exec(select(Alert).where(Alert.subject == "seongsu/*")).one()
    assert (alert.site_id, alert.count, alert.recent) == (
        world.sites["seongsu"].id,
        2,
        ["seongsu/ghost-7"],
    )
    assert usages(session) == []


def test_points_carry_site_resource_and_kind_tags(session, world, devices):
    directory = device_tags(session=session)
    assert directory[("seongsu", "meeting-1")] == DeviceTags(
        devices["meeting-1"].id, "seongsu", "meeting-1", "room"
    )
    points = points_for(
        [
            sample(0, "running", power_w=2000),
            Telemetry("seongsu", "meeting-1", at(0), None, {"people": 3.0}),
            Event("seongsu", "laser-1", at(1), "badge", {"card": "04A1B2C3"}),
            Event("seongsu", "laser-1", at(1), "job", {"phase": "start"}),
            status(2, False),
            sample(0, "running", device="ghost-7"),
        ],
        directory,
    )
    assert [(p.resource, p.kind, p.ts, p.fields) for p in points] == [
        ("laser-1", "machine", at(0), {"power_w": 2000.0, "state": "running"}),
        ("meeting-1", "room", at(0), {"people": 3.0}),
        ("laser-1", "machine", at(1), {"job_phase": "start"}),
        ("laser-1", "machine", at(2), {"online": False}),
    ]


def test_times_are_kept_in_utc(session, world, devices):
    run(session, Telemetry("seongsu", "laser-1", at(0).astimezone(UTC), "idle", {}))
    assert session.get(Device, devices["laser-1"].id).last_ts == at(0)
