"""The demo's day: today's bookings for the demo makers, and simulated machines that follow
them and the scheduler's commands, with one of each incident. The machines run on an
injected clock, with a stand-in for the scheduler, so a whole day takes a second."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from devices.behaviour import ScriptedMachine, ScriptedRoom, Visit
from devices.contract import CommandAck, Event, Telemetry
from service.demo_data import seed_demo
from service.demo_data.day import DayPlan, PlannedVisit, day_inputs, plan_day, seed_day
from service.models import Account, Reservation, Resource, Site
from service.rules.hours import opening_intervals

# Monday 30 November 2026, 09:30 in Seoul: every site opens today.
MONDAY_MORNING = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
# The scheduler's defaults: no-show after 15 minutes, 10 minutes' grace for an overstay.
NO_SHOW_AFTER = timedelta(minutes=15)
GRACE = timedelta(minutes=10)
STEP_S = 10.0


def test_the_seed_books_today_within_each_sites_opening_hours_for_the_demo_makers(session):
    seed_demo(session=session)
    plan = seed_day(session=session, now=MONDAY_MORNING)
    session.commit()

    reservations = session.exec(select(Reservation).order_by(col(Reservation.start_at))).all()
    assert len(reservations) == len(plan.bookings()) > 20
    makers = {a.id: a for a in session.exec(select(Account))}
    by_resource: dict[int, list[Reservation]] = {}
    for reservation in reservations:
        resource = session.get(Resource, reservation.resource_id)
        assert resource is not None
        site = session.get(Site, resource.site_id)
        assert site is not None
        start = reservation.start_at.astimezone(site.zone)
        end = reservation.end_at.astimezone(site.zone)
        # Today in the site's zone, from now on, inside an opening interval.
        assert start.date() == end.date() == MONDAY_MORNING.astimezone(site.zone).date()
        assert reservation.start_at >= MONDAY_MORNING
        hours = opening_intervals(
            session=session, site=site, start=reservation.start_at, end=reservation.end_at
        )
        assert [(i.start, i.end) for i in hours] == [(reservation.start_at, reservation.end_at)]
        assert makers[reservation.account_id].email.endswith("@smartfab.example")
        by_resource.setdefault(reservation.resource_id, []).append(reservation)
    for booked in by_resource.values():
        for first, second in zip(booked, booked[1:], strict=False):
            assert first.blocked_until <= second.start_at
    # The first booking starts within minutes, so the demo shows something at once.
    assert reservations[0].start_at - MONDAY_MORNING <= timedelta(minutes=10)


def test_seeding_the_day_again_adds_no_overlapping_booking(session):
    seed_demo(session=session)
    seed_day(session=session, now=MONDAY_MORNING)
    session.commit()
    again = seed_day(session=session, now=MONDAY_MORNING + timedelta(minutes=3))
    session.commit()
    assert again.bookings() == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_plan_is_the_same_for_the_same_seed_and_has_one_of_each_incident(session):
    seed_demo(session=session)
    sites, makers = day_inputs(session=session, now=MONDAY_MORNING)
    plan = plan_day(sites, makers, now=MONDAY_MORNING, seed=7)
    assert plan == plan_day(sites, makers, now=MONDAY_MORNING, seed=7)
    assert plan != plan_day(sites, makers, now=MONDAY_MORNING, seed=8)
    counts = Counter(v.kind for v in plan.visits)
    assert {kind: counts[kind] for kind in ("no_show", "fault", "overstay", "walk_in")} == {
        "no_show": 1,
        "fault": 1,
        "overstay": 1,
        "walk_in": 1,
    }
    assert counts["unauthorised"] <= 1
    # Nothing when every site has closed for the day (Monday 21:30 in Seoul).
    late = MONDAY_MORNING + timedelta(hours=12)
    sites, makers = day_inputs(session=session, now=late)
    assert plan_day(sites, makers, now=late).visits == ()


# -- the simulated day ------------------------------------------------------------------------


@dataclass
class Day:
    """What happened, as the scheduler and the alert log would see it."""

    runs_enabled: int = 0
    unauthorised: list[float] = field(default_factory=list)
    faults: int = 0
    overstays: int = 0
    no_shows: int = 0
    walk_ins: int = 0
    rooms_in_use: int = 0
    events: list[tuple[float, str, str, str]] = field(default_factory=list)


def _simulate(plan: DayPlan, *, seed: int, speed: float = 10.0, hours: float = 14) -> Day:
    """Step every machine of the plan through the day on an injected clock, a stand-in
    scheduler answering as the real one does: enable at a booking's start (or a walk-in's
    badge), disable at its end (a running machine after the grace: an overstay), disable a
    no-show's machine once it counts as one."""
    day = Day()
    start = MONDAY_MORNING.timestamp()
    end = start + hours * 3600
    rng = random.Random(seed)
    machines: dict[str, ScriptedMachine] = {}
    rooms: dict[str, ScriptedRoom] = {}
    bookings: dict[str, list[PlannedVisit]] = {}
    kinds = {}
    for planned in plan.visits:
        key = f"{planned.machine.site}/{planned.machine.slug}"
        kinds[key] = planned.machine.kind
        if planned.booked:
            bookings.setdefault(key, []).append(planned)
    for key, visits in plan.scripts().items():
        kind = kinds[key]
        device_rng = random.Random(rng.getrandbits(64))
        if kind == "room":
            rooms[key] = ScriptedRoom(visits, now=start, rng=device_rng, speed=speed)
        else:
            machines[key] = ScriptedMachine(
                "laser_cutter", visits, now=start, rng=device_rng, speed=speed
            )
    switched: dict[tuple[str, int], str] = {}  # (machine, booking) -> last command
    walk_in_until: dict[str, float] = {}
    for key, room in rooms.items():
        occupied = [room.step(t).metrics["occupied"] for t in _ticks(start, end)]
        # Occupied in every booking, and only then.
        expected = [
            float(any(b.start.timestamp() <= t < b.end.timestamp() for b in bookings[key]))
            for t in _ticks(start, end)
        ]
        day.rooms_in_use += int(occupied == expected)
    for key, model in machines.items():
        previous = model.state
        ran_in: set[int] = set()
        for now in _ticks(start, end):
            for index, booking in enumerate(bookings.get(key, [])):
                b_start, b_end = booking.start.timestamp(), booking.end.timestamp()
                done = switched.get((key, index))
                no_show_at = b_start + NO_SHOW_AFTER.total_seconds()
                if done is None and b_start <= now < b_end:
                    model.enable(now, b_end)
                    switched[(key, index)] = "enable"
                elif done == "enable" and now >= no_show_at and index not in ran_in:
                    day.no_shows += 1
                    model.disable(now)
                    switched[(key, index)] = "disable"
                elif done == "enable" and now >= b_end:
                    if model.state == "running" and now < b_end + GRACE.total_seconds():
                        if (key, -index - 1) not in switched:
                            day.overstays += 1
                            switched[(key, -index - 1)] = "overstay"
                        continue
                    model.disable(now)
                    switched[(key, index)] = "disable"
                if model.state == "running" and b_start <= now < b_end:
                    ran_in.add(index)
            if key in walk_in_until and now >= walk_in_until[key]:
                model.disable(now)
                del walk_in_until[key]
            step = model.step(now)
            for kind, data in step.events:
                day.events.append((now, key, kind, str(data)))
                booked_now = any(
                    b.start.timestamp() <= now < b.end.timestamp() for b in bookings.get(key, [])
                )
                if kind == "badge" and not booked_now:
                    day.walk_ins += 1
                    until = now + 40 * 60  # the walk-in rule's end, as the badge answer says
                    walk_in_until[key] = until
                    model.enable(now, until)
            if step.state == "running" and previous != "running":
                if model.enabled:
                    day.runs_enabled += 1
                else:
                    day.unauthorised.append(now)
            if step.state == "fault" and previous != "fault":
                day.faults += 1
            previous = step.state
    return day


def _ticks(start: float, end: float, step: float = STEP_S):
    now = start
    while now < end:
        yield now
        now += step


@pytest.fixture
def plan(session) -> DayPlan:
    seed_demo(session=session)
    sites, makers = day_inputs(session=session, now=MONDAY_MORNING)
    return plan_day(sites, makers, now=MONDAY_MORNING)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_simulated_day_has_one_walk_in_no_show_fault_and_overstay(plan):
    day = _simulate(plan, seed=1)
    assert day.walk_ins == 1
    assert day.no_shows == 1
    assert day.faults == 1
    assert day.overstays == 1
    # One unauthorised use (at most one an hour); every other run was let in by the scheduler.
    assert len(day.unauthorised) == 1
    assert day.runs_enabled > 50
    # Rooms are occupied during their bookings only (never without one).
    rooms = {(v.machine.site, v.machine.slug) for v in plan.visits if v.machine.kind == "room"}
    assert day.rooms_in_use == len(rooms) > 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_simulated_day_repeats_exactly_with_the_same_seed(plan):
    first = _simulate(plan, seed=3, hours=2).events
    assert _simulate(plan, seed=3, hours=2).events == first
    assert _simulate(plan, seed=4, hours=2).events != first


def test_a_scripted_machine_is_off_until_enabled_and_off_again_when_disabled():
    visit = Visit("booked", 100.0, 100.0 + 1800, "04A1B2C3")
    model = ScriptedMachine("sewing_machine", [visit], now=0, rng=random.Random(1), speed=10)
    states = [model.step(t).state for t in range(0, 200)]
    assert set(states) == {"off"}  # the maker is there from 100 s, but not let in yet
    model.enable(200, visit.end)
    during = [model.step(t) for t in range(200, 1700)]
    assert "running" in {s.state for s in during}
    model.disable(1700)
    after = [model.step(t) for t in range(1700, 2500)]
    assert {s.state for s in after} == {"off"}
    assert {s.metrics["power_w"] for s in after} == {0.0}


def test_an_overstayer_is_running_at_the_end_and_stops_only_when_switched_off():
    visit = Visit("overstay", 0.0, 1800.0, "04A1B2C3")
    for seed in range(5):
        model = ScriptedMachine("laser_cutter", [visit], now=0, rng=random.Random(seed), speed=10)
        model.enable(0, visit.end)
        states = {t: model.step(t).state for t in range(0, 2400)}
        assert states[1800] == states[2399] == "running"
        model.disable(2400)
        assert model.step(2401).state == "off"


# -- the day against the real scheduler jobs and the listener's rules ---------------------------


class _Commands:
    """The scheduler's publisher: commands go straight to the simulated machines."""

    def __init__(self, machines: dict[str, ScriptedMachine]) -> None:
        self.machines = machines
        self.now = 0.0
        self.acks: list[CommandAck] = []

    @property
    def connected(self) -> bool:
        return True

    def publish(self, commands) -> int:
        for command in commands:
            model = self.machines.get(f"{command.site}/{command.device}")
            at = datetime.fromtimestamp(self.now, UTC)
            self.acks.append(CommandAck(command.site, command.device, command.uid, True, at))
            if model is None:
                continue
            if command.action == "enable":
                until = command.until.timestamp() if command.until is not None else None
                model.enable(self.now, until)
            elif command.action == "disable":
                model.disable(self.now)
        return len(commands)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_first_two_hours_raise_one_alert_of_each_kind_and_no_other(session, engine, settings):
    from scheduler import jobs
    from service.models import Alert, ReservationStatus
    from telemetry.derive import apply

    seed_demo(session=session)
    plan = seed_day(session=session, now=MONDAY_MORNING)
    session.commit()
    start = MONDAY_MORNING.timestamp()
    rng = random.Random(5)
    machines: dict[str, ScriptedMachine] = {}
    models: dict[str, ScriptedMachine | ScriptedRoom] = {}
    categories = {f"{v.machine.site}/{v.machine.slug}": v.machine for v in plan.visits}
    for key, visits in plan.scripts().items():
        bookable = categories[key]
        device_rng = random.Random(rng.getrandbits(64))
        if bookable.kind == "room":
            models[key] = ScriptedRoom(visits, now=start, rng=device_rng, speed=10)
        else:
            machines[key] = ScriptedMachine(
                bookable.category, visits, now=start, rng=device_rng, speed=10
            )
            models[key] = machines[key]
    publisher = _Commands(machines)
    for now in _ticks(start, start + 2 * 3600, step=60.0):
        moment = datetime.fromtimestamp(now, UTC)
        publisher.now = now
        messages, taps = [], []
        for key, model in models.items():
            site, device = key.split("/")
            step = model.step(now)
            for kind, data in step.events:
                event = Event(site, device, moment, kind, dict(data))
                messages.append(event)
                taps += [event] if kind == "badge" else []
            messages.append(Telemetry(site, device, moment, step.state, step.metrics))
        apply(session=session, now=moment, messages=messages)
        session.commit()
        for tap in taps:
            jobs.answer_tap(engine=engine, now=moment, tap=tap, publisher=publisher)
        jobs.enforce_slots(engine=engine, now=moment, settings=settings)
        jobs.send_commands(engine=engine, now=moment, settings=settings, publisher=publisher)
        if publisher.acks:
            jobs.settle_acks(engine=engine, now=moment, acks=publisher.acks)
            publisher.acks = []

    session.expire_all()
    alerts = Counter(str(a.kind) for a in session.exec(select(Alert)))
    assert alerts == {"unauthorised_use": 1, "fault": 1, "overstay": 1}
    statuses = Counter(str(r.status) for r in session.exec(select(Reservation)))
    assert statuses["no_show"] == 1
    walk_ins = session.exec(select(Reservation).where(col(Reservation.walk_in).is_(True))).all()
    assert len(walk_ins) == 1
    assert ReservationStatus.completed in {r.status for r in session.exec(select(Reservation))}
