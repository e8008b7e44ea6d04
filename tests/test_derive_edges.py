"""Device messages at their edges: unknown devices, stale telemetry, meters, time windows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from devices.contract import CommandAck, Event, Status, Telemetry, decode
from service.models import (
    Account,
    Alert,
    DeadLetter,
    Device,
    Reservation,
    UsageSession,
)
from service.rules.commands import CommandSpec, create_commands
from service.rules.devices import ensure_devices
from telemetry.derive import apply
from tests.conftest import CURRENT_TIME
from tests.factories import World

T0 = CURRENT_TIME - timedelta(hours=1)
CARD = "04A1B2C3"


@pytest.fixture
def devices(session: Session, world: World) -> dict[str, Device]:
    for site in world.sites.values():
        ensure_devices(session=session, site=site)
    session.commit()
    return {d.slug: d for d in session.exec(select(Device))}


def at(minutes: float) -> object:
    return T0 + timedelta(minutes=minutes)


def sample(minutes: float, state: str | None = None, device: str = "laser-1", **metrics: float):
    return Telemetry("seongsu", device, at(minutes), state, dict(metrics))


def status(minutes: float, online: bool, device: str = "laser-1") -> Status:
    return Status("seongsu", device, online, at(minutes))


def badge(minutes: float, card: str = CARD, device: str = "laser-1") -> Event:
    return Event("seongsu", device, at(minutes), "badge", {"card": card})


def run(session: Session, *messages, now=CURRENT_TIME, root: str = "smartfab") -> None:
    """Apply a batch and commit it, as the listener does."""
    apply(session=session, now=now, messages=list(messages), root=root)
    session.commit()


def usages(session: Session) -> list[UsageSession]:
    session.expire_all()
    return list(session.exec(select(UsageSession).order_by(col(UsageSession.id))))


def device(session: Session, slug: str = "laser-1") -> Device:
    session.expire_all()
    return session.exec(select(Device).where(Device.slug == slug)).one()


def open_alerts(session: Session) -> set[tuple[str, str]]:
    session.expire_all()
    alerts = session.exec(select(Alert).where(col(Alert.closed_at).is_(None))).all()
    return {(a.kind, a.subject) for a in alerts}


def reserve(session: Session, world: World, start, end, **kw) -> Reservation:
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


def with_card(session: Session, world: World) -> int:
    maker = session.get(Account, world.id("maker"))
    assert maker is not None
    maker.card_uid = CARD
    session.commit()
    return world.id("maker")


# -- unknown devices --------------------------------------------------------------------


def test_every_kind_of_message_from_an_unknown_device_is_kept_as_it_was_sent(
    session, world, devices
):
    sent = [
        ("plant/seongsu/ghost-7/telemetry", b'{"ts": 1772406000000, "power_w": 12.5}'),
        ("plant/seongsu/ghost-7/event", b'{"type": "badge", "card": "04a1b2c3"}'),
        ("plant/seongsu/ghost-7/status", b"offline"),
        ("plant/seongsu/ghost-7/status", b" online\n"),
        ("plant/seongsu/ghost-7/cmd/ack", b'{"id": "cmd-9", "ok": true}'),
    ]
    messages = [
        decode(topic, payload, root="plant", now=at(i)) for i, (topic, payload) in enumerate(sent)
    ]
    run(session, *messages, root="plant")
    letters = session.exec(select(DeadLetter).order_by(col(DeadLetter.id))).all()
    assert [(d.topic, d.reason, d.site, d.device) for d in letters] == [
        (topic, "unknown_device", "seongsu", "ghost-7") for topic, _ in sent
    ]
    assert [(bytes(d.payload), d.size) for d in letters] == [(p, len(p)) for _, p in sent]


def test_an_unknown_device_at_an_unknown_site_is_alerted_without_a_site(session, world, devices):
    run(session, Telemetry("nowhere", "x", at(0), None, {"power_w": 1}))
    alert = session.exec(select(Alert)).one()
    assert (alert.kind, alert.subject, alert.site_id) == ("unknown_device", "*", None)
    assert alert.message == "messages from devices nobody registered at unknown sites"
    assert (alert.count, alert.recent) == (1, ["nowhere/x"])
    assert alert.opened_at == CURRENT_TIME


def test_an_unknown_device_beside_a_known_one_leaves_the_known_ones_messages_applied(
    session, world, devices
):
    run(session, sample(0, "idle", device="ghost-7"), sample(0, "idle"))
    assert device(session).state == "idle"
    assert len(session.exec(select(DeadLetter)).all()) == 1


# -- status and telemetry order ---------------------------------------------------------


def test_telemetry_older_than_an_offline_status_does_not_bring_the_device_back(
    session, world, devices
):
    run(session, status(10, False))
    assert open_alerts(session) == {("offline", "seongsu/laser-1")}
    run(session, sample(5, "idle"))
    assert device(session).online is False
    assert open_alerts(session) == {("offline", "seongsu/laser-1")}
    # Sent at the very moment of the status, it is no proof of life either.
    run(session, sample(10, "idle"))
    assert device(session).online is False
    run(session, sample(11, "idle"))
    assert device(session).online is True
    assert open_alerts(session) == set()


def test_telemetry_from_a_device_never_reported_offline_brings_it_online(session, world, devices):
    run(session, sample(0, "idle"))
    live = device(session)
    assert (live.online, live.last_seen, live.state, live.state_since) == (
        True,
        at(0),
        "idle",
        at(0),
    )


def test_a_status_older_than_the_last_one_is_ignored(session, world, devices):
    run(session, status(10, True))
    run(session, status(5, False))
    live = device(session)
    assert (live.online, live.status_at) == (True, at(10))
    assert open_alerts(session) == set()


def test_an_offline_status_at_the_same_moment_as_online_wins(session, world, devices):
    run(session, status(10, True))
    run(session, status(10, False))
    assert device(session).online is False


def test_only_online_statuses_count_as_seen(session, world, devices):
    run(session, status(5, True), status(10, False))
    assert device(session).last_seen == at(5)


def test_last_seen_never_runs_ahead_of_the_clock(session, world, devices):
    run(session, sample(0, "idle"), now=at(-5))
    assert device(session).last_seen == at(-5)


def test_acks_and_events_count_as_seen(session, world, devices):
    laser = devices["laser-1"]
    specs = [
        CommandSpec(f"k-{uid}", laser.id or 0, laser.resource_id or 0, "warn", T0, uid=uid)
        for uid in ("c0", "c1")
    ]
    create_commands(session=session, now=T0, specs=specs, sent=True)
    session.commit()
    # An ack naming no command of this device is refused, so it is no sign of life.
    run(session, CommandAck("seongsu", "laser-1", "c9", True, at(2)))
    assert device(session).last_seen is None
    run(session, CommandAck("seongsu", "laser-1", "c1", True, at(3)))
    assert device(session).last_seen == at(3)
    run(session, Event("seongsu", "laser-1", at(4), "door", {"open": True}))
    live = device(session)
    assert live.last_seen == at(4)
    assert live.last_values == {"door_open": True}
    run(session, Event("seongsu", "laser-1", at(5), "job", {"phase": "start"}))
    assert device(session).last_values == {"door_open": True, "job_phase": "start"}
    # Something older than what was seen does not move it back.
    run(session, CommandAck("seongsu", "laser-1", "c0", True, at(1)))
    assert device(session).last_seen == at(5)


def test_a_second_sample_at_the_same_time_moves_no_edge(session, world, devices):
    reserve(session, world, at(0), at(60))
    run(session, sample(0, "idle"))
    run(session, sample(0, "running"))
    live = device(session)
    assert (live.state, live.last_values) == ("idle", {"state": "idle"})
    assert usages(session) == []


def test_a_second_sample_at_the_same_time_in_one_batch_moves_no_edge(session, world, devices):
    reserve(session, world, at(0), at(60))
    run(session, sample(0, "running"), sample(0, "idle"))
    live = device(session)
    assert (live.state, live.state_since) == ("running", at(0))
    [usage] = usages(session)
    assert usage.end_at is None


def test_a_sample_without_a_state_keeps_the_state_and_the_run(session, world, devices):
    reserve(session, world, at(0), at(60))
    run(session, sample(0, "running"), sample(5, None, power_w=100))
    live = device(session)
    assert (live.state, live.state_since) == ("running", at(0))
    assert live.last_values == {"state": "running", "power_w": 100}
    [usage] = usages(session)
    assert usage.end_at is None


def test_a_device_without_a_machine_starts_no_session(session, world, devices):
    site = world.sites["seongsu"]
    session.add(Device(site_id=site.id or 0, slug="reader-1"))
    session.commit()
    run(session, sample(0, "running", device="reader-1"))
    assert usages(session) == []
    assert device(session, "reader-1").state == "running"


def test_an_alert_names_the_site_machine_and_device_it_is_about(session, world, devices):
    run(session, status(0, False))
    alert = session.exec(select(Alert)).one()
    assert (alert.kind, alert.site_id, alert.resource_id, alert.device_id) == (
        "offline",
        world.sites["seongsu"].id,
        world.id("laser"),
        devices["laser-1"].id,
    )


def test_each_machine_picks_up_its_own_open_session_in_the_next_batch(session, world, devices):
    # The cnc's session is stored first, so session and device ids differ.
    run(
        session,
        sample(0, "running", device="cnc-1", power_w=600),
        sample(0, "running", power_w=1200),
    )
    run(session, sample(30, "idle", device="cnc-1"), sample(30, "idle"))
    found = {u.device_id: (u.end_at, u.energy_wh) for u in usages(session)}
    assert found == {
        devices["cnc-1"].id: (at(30), pytest.approx(300)),
        devices["laser-1"].id: (at(30), pytest.approx(600)),
    }


# -- energy -----------------------------------------------------------------------------


def test_an_energy_meter_missing_from_one_sample_is_not_counted_twice(session, world, devices):
    reserve(session, world, at(0), at(60))
    run(
        session,
        sample(0, "running", power_w=3000, energy_wh=1000),
        sample(20, "running", power_w=3000),
        sample(40, "idle", power_w=0, energy_wh=2000),
    )
    assert usages(session)[0].energy_wh == pytest.approx(1000)


def test_power_counts_until_the_meter_gives_its_first_reading(session, world, devices):
    reserve(session, world, at(0), at(60))
    run(
        session,
        sample(0, "running", power_w=3000),
        sample(20, "running", power_w=3000, energy_wh=500),
        sample(40, "idle", energy_wh=800),
    )
    assert usages(session)[0].energy_wh == pytest.approx(1000 + 300)


def test_a_meter_that_stays_put_adds_nothing(session, world, devices):
    reserve(session, world, at(0), at(60))
    run(
        session,
        sample(0, "running", energy_wh=700),
        sample(20, "running", energy_wh=700),
        sample(40, "idle", energy_wh=750),
    )
    assert usages(session)[0].energy_wh == pytest.approx(50)


def test_a_negative_power_reading_adds_no_energy(session, world, devices):
    reserve(session, world, at(0), at(60))
    run(
        session,
        sample(0, "running", power_w=-500),
        sample(30, "running", power_w=1200),
        sample(60, "idle"),
    )
    assert usages(session)[0].energy_wh == pytest.approx(600)


def test_energy_keeps_adding_up_across_batches(session, world, devices):
    reserve(session, world, at(0), at(60))
    run(session, sample(0, "running", power_w=1200))
    run(session, sample(30, "running", power_w=600))
    run(session, sample(60, "idle"))
    [usage] = usages(session)
    assert usage.energy_wh == pytest.approx(600 + 300)
    assert usage.run_seconds == 3600


# -- check-in and badge windows ---------------------------------------------------------


def test_a_run_starting_exactly_fifteen_minutes_early_belongs_to_the_reservation(
    session, world, devices
):
    reservation = reserve(session, world, at(15), at(60))
    run(session, sample(0, "running"))
    [usage] = usages(session)
    assert (usage.reservation_id, usage.unauthorised) == (reservation.id, False)


def test_a_run_starting_a_second_earlier_than_that_is_unauthorised(session, world, devices):
    reserve(session, world, at(15) + timedelta(seconds=1), at(60))
    run(session, sample(0, "running"))
    [usage] = usages(session)
    assert (usage.reservation_id, usage.unauthorised) == (None, True)


def test_a_run_starting_when_the_reservation_ends_is_unauthorised(session, world, devices):
    reserve(session, world, at(0), at(30))
    run(session, sample(30, "running"))
    [usage] = usages(session)
    assert (usage.reservation_id, usage.unauthorised) == (None, True)


def test_a_run_just_before_the_reservation_ends_belongs_to_it(session, world, devices):
    reservation = reserve(session, world, at(0), at(30))
    run(session, sample(29, "running"))
    assert usages(session)[0].reservation_id == reservation.id


def test_the_reservation_under_way_comes_before_the_next_one(session, world, devices):
    current = reserve(session, world, at(0), at(30))
    reserve(session, world, at(30), at(60))
    run(session, sample(20, "running"))
    assert usages(session)[0].reservation_id == current.id


def test_the_reservation_under_way_comes_first_whichever_was_booked_first(session, world, devices):
    reserve(session, world, at(30), at(60))
    current = reserve(session, world, at(0), at(30))
    run(session, sample(20, "running"))
    assert usages(session)[0].reservation_id == current.id


def test_a_batch_reaching_into_a_reservation_finds_it(session, world, devices):
    reservation = reserve(session, world, at(60), at(90))
    run(session, sample(0, "idle"), sample(50, "running"))
    [usage] = usages(session)
    assert (usage.reservation_id, usage.unauthorised) == (reservation.id, False)


def test_a_badge_exactly_ten_minutes_before_names_who_started_the_machine(session, world, devices):
    maker = with_card(session, world)
    run(session, badge(0), sample(10, "running"))
    [usage] = usages(session)
    assert (usage.account_id, usage.unauthorised) == (maker, True)


def test_a_badge_tapped_in_the_millisecond_the_run_starts_names_who_started_it(
    session, world, devices
):
    maker = with_card(session, world)
    run(session, badge(10), sample(10, "running"))
    [usage] = usages(session)
    assert (usage.account_id, usage.unauthorised) == (maker, True)


def test_a_badge_a_second_more_than_ten_minutes_before_names_nobody(session, world, devices):
    with_card(session, world)
    run(
        session,
        badge(0),
        Telemetry("seongsu", "laser-1", at(10) + timedelta(seconds=1), "running", {}),
    )
    assert usages(session)[0].account_id is None


def test_a_badge_tapped_after_the_run_started_does_not_name_who_started_it(session, world, devices):
    with_card(session, world)
    run(session, badge(5))
    run(session, sample(4, "running"))
    assert usages(session)[0].account_id is None


def test_an_unknown_card_names_nobody(session, world, devices):
    with_card(session, world)
    run(session, badge(0, card="FFFFFFFF"), sample(1, "running"))
    assert usages(session)[0].account_id is None


def test_an_older_badge_tap_does_not_replace_the_last_one(session, world, devices):
    with_card(session, world)
    run(session, badge(5))
    run(session, badge(3, card="FFFFFFFF"))
    live = device(session)
    assert (live.last_card, live.last_card_at) == (CARD, at(5))
    run(session, badge(5, card="0000AAAA"))
    assert device(session).last_card == "0000AAAA"


# -- transactions -----------------------------------------------------------------------


def test_a_batch_is_left_for_its_caller_to_commit(session, engine, world, devices):
    reserve(session, world, at(0), at(60))
    apply(session=session, now=CURRENT_TIME, messages=[sample(0, "running")])
    with Session(engine) as other:
        assert other.exec(select(UsageSession)).all() == []
    session.commit()
    with Session(engine) as other:
        assert len(other.exec(select(UsageSession)).all()) == 1
        live = other.exec(select(Device).where(Device.slug == "laser-1")).one()
        assert live.state == "running"


def test_a_batch_that_fails_part_way_leaves_nothing_behind(session, engine, world, devices):
    reserve(session, world, at(0), at(60))
    broken = Event("seongsu", "laser-1", at(5), "badge", {})  # no card
    with pytest.raises(KeyError):
        run(session, sample(0, "running", power_w=2000), broken)
    session.rollback()
    with Session(engine) as other:
        assert other.exec(select(UsageSession)).all() == []
        live = other.exec(select(Device).where(Device.slug == "laser-1")).one()
        assert (live.state, live.last_ts) == (None, None)
