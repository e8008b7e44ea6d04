"""Charging units: the runs of one reservation are rounded and held to the minimum once.

The laser costs 22,000 won/h by run time; the maker booked it 10:00-12:00 on 10 February.
"""

from __future__ import annotations

import pytest

from service.models import ChargeUnit, LineBasis, RateBasis, ReservationStatus
from tests.billing import invoice_of, issue, lines, plan_for
from tests.factories import make_reservation, make_run


@pytest.fixture
def booking(held, priced):
    return held("maker", "laser", "2026-02-10", "10:00-12:00")


def cuts(session, world, reservation, count: int, seconds: int, **kw) -> None:
    """`count` runs of `seconds`, one every two minutes from 10:00 (Seoul)."""
    for n in range(count):
        start = f"2026-02-10 {10 + n * 2 // 60:02d}:{n * 2 % 60:02d}"
        make_run(
            session, world, "laser", start, seconds, who="maker", reservation=reservation, **kw
        )


def billed(session, world, terms) -> list[tuple[int, int]]:
    found = lines(session, invoice_of(issue(session, terms), world, "maker"))
    return [(x.quantity_minutes, x.amount) for x in found]


def test_thirty_short_cuts_in_one_booking_cost_one_minimum_not_thirty(
    session, world, terms, booking
):
    plan_for(
        session, world, "laser", basis=RateBasis.run_time, price_per_hour=22_000, min_minutes=15
    )
    cuts(session, world, booking, 30, 40)
    session.commit()
    (line,) = lines(session, invoice_of(issue(session, terms), world, "maker"))
    # 30 × 40 s = 1,200 s = 20 min (over the 15-minute minimum): 20 × 22,000 / 60 = 7,333.3.
    # Charged run by run it would be 30 × 15 min = 450 min = 165,000.
    assert (line.basis, line.quantity_minutes, line.amount) == (LineBasis.run_time, 20, 7_333)
    assert (line.reservation_id, line.usage_session_id) == (booking.id, None)
    assert line.description.endswith("· 30회 / runs")


def test_runs_of_one_booking_are_summed_before_rounding_up(session, world, terms, booking):
    cuts(session, world, booking, 3, 70)
    session.commit()
    # 3 × 70 s = 210 s → 4 min (not 3 × 2 min): 4 × 22,000 / 60 = 1,466.7 → 1,467.
    assert billed(session, world, terms) == [(4, 1_467)]


def test_a_booking_too_short_for_the_minimum_is_charged_the_minimum_once(
    session, world, terms, booking
):
    plan_for(
        session, world, "laser", basis=RateBasis.run_time, price_per_hour=22_000, min_minutes=15
    )
    cuts(session, world, booking, 3, 70)
    session.commit()
    # 4 min < 15: 15 × 22,000 / 60 = 5,500.
    assert billed(session, world, terms) == [(15, 5_500)]


def test_a_plan_charging_per_run_rounds_each_run(session, world, terms, booking):
    plan_for(
        session,
        world,
        "laser",
        basis=RateBasis.run_time,
        price_per_hour=22_000,
        charge_unit=ChargeUnit.run,
    )
    cuts(session, world, booking, 3, 70)
    session.commit()
    # Each 70 s → 2 min: 2 × 22,000 / 60 = 733.3 → 733, three times.
    assert billed(session, world, terms) == [(2, 733)] * 3


def test_walk_in_runs_are_one_unit_each(session, world, terms, priced):
    plan_for(
        session, world, "laser", basis=RateBasis.run_time, price_per_hour=22_000, min_minutes=15
    )
    walk_in = make_reservation(
        session,
        world,
        "maker",
        "laser",
        "2026-02-10 10:00",
        "2026-02-10 11:00",
        ReservationStatus.completed,
        walk_in=True,
    )
    cuts(session, world, walk_in, 2, 180, walk_in=True)
    session.commit()
    # Two walk-in runs of 3 min, each held to 15 min: 15 × 22,000 / 60 = 5,500 each.
    assert billed(session, world, terms) == [(15, 5_500), (15, 5_500)]


def test_each_booking_is_its_own_unit(session, world, terms, held, priced):
    morning = held("maker", "laser", "2026-02-10", "10:00-12:00")
    evening = held("maker", "laser", "2026-02-11", "18:00-19:00")
    cuts(session, world, morning, 2, 90)
    make_run(session, world, "laser", "2026-02-11 18:05", 90, who="maker", reservation=evening)
    session.commit()
    # Morning: 180 s = 3 min → 1,100; evening: 90 s → 2 min → 733.3 → 733.
    assert billed(session, world, terms) == [(3, 1_100), (2, 733)]
