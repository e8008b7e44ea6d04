"""Several schedulers on one database: one acts at a time, and none sends a command twice."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from scheduler import jobs
from scheduler.runner import Scheduler
from service.models import ReservationStatus, Resource
from tests.conftest import CURRENT_TIME
from tests.factories import make_resource
from tests.machines import Clock, Machines, acked, add_device, reserve, scheduler_settings

T0 = CURRENT_TIME
active = ReservationStatus.active


def _twenty_machines(session, world) -> list[Resource]:
    site = world.sites["seongsu"]
    made = []
    for n in range(20):
        resource = make_resource(session, site, f"router-{n}")
        session.commit()
        add_device(session, resource)
        start = T0 + timedelta(minutes=n % 3)
        reserve(session, resource, world.id("maker"), start, 30, status=active, checked_in_at=start)
        made.append(resource)
    return made


def _together(*calls) -> None:
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        call()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_two_schedulers_ticking_together_send_each_command_once(
    db_url, mosquitto, engine, session, world
):
    _twenty_machines(session, world)
    settings = scheduler_settings(db_url, mosquitto)
    pair = [Scheduler(settings, engine, clock=Clock(T0), holder=h) for h in ("a", "b")]
    for s in pair:
        s.link.start()
    try:
        with Machines(mosquitto.host, mosquitto.port) as machines:
            for minute in (0, 1, 2, 25, 26, 27, 30, 31, 32):
                now = T0 + timedelta(minutes=minute)
                _together(*(lambda s=s, now=now: s.tick(now) for s in pair))
                acked(engine)
            received = machines.settle()
    finally:
        for s in pair:
            s.link.stop()

    per_device = Counter((r.device, r.action) for r in received)
    assert len(per_device) == 60  # enable, warn and disable for each of 20 machines
    assert set(per_device.values()) == {1}


def test_the_jobs_claim_their_work_even_when_two_passes_overlap(
    db_url, mosquitto, engine, session, world
):
    # As if two schedulers both believed they held the lease (one paused past its expiry).
    _twenty_machines(session, world)
    settings = scheduler_settings(db_url, mosquitto)
    links = [Scheduler(settings, engine, clock=Clock(T0), holder=h).link for h in ("a", "b")]
    for link in links:
        link.start()
    try:
        with Machines(mosquitto.host, mosquitto.port) as machines:
            for minute in (2, 30, 32):
                now = T0 + timedelta(minutes=minute)

                def one_pass(link, now=now):
                    jobs.enforce_slots(engine=engine, now=now, settings=settings)
                    jobs.send_commands(engine=engine, now=now, settings=settings, publisher=link)

                _together(*(lambda link=link: one_pass(link) for link in links))
                acked(engine)
            received = machines.settle()
    finally:
        for link in links:
            link.stop()

    per_device = Counter((r.device, r.action) for r in received)
    assert set(per_device.values()) == {1}
    actions = Counter(action for _, action in per_device)
    assert actions["enable"] == actions["disable"] == 20


def test_a_second_scheduler_takes_over_when_the_first_stops_renewing(db_url, engine, world):
    settings = scheduler_settings(db_url)
    first = Scheduler(settings, engine, holder="first")
    second = Scheduler(settings, engine, holder="second")
    ttl = timedelta(seconds=settings.scheduler.lease_ttl_s)

    assert first.lease.acquire(T0)
    assert not second.lease.acquire(T0 + ttl / 2)
    assert first.lease.acquire(T0 + ttl / 2)  # renewed
    assert not second.lease.acquire(T0 + ttl)
    assert second.lease.acquire(T0 + ttl * 1.5 + timedelta(seconds=1))
    assert not first.lease.acquire(T0 + ttl * 2)

    second.lease.release(T0 + ttl * 2)
    assert first.lease.acquire(T0 + ttl * 2)
