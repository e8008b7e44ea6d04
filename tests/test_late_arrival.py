"""The late-arrival rule: a run by the holder of a no-show booking is billed as a walk-in.

The laser costs 22,000 won/h by run time; a no-show costs 50 % of the booked time.
The maker booked it 10:00-13:00 on 10 February and was released as a no-show:
that alone would cost 180 min × 22,000 / 60 × 50 % = 33,000.
"""

from __future__ import annotations

import pytest

from service.models import LineBasis, RateBasis
from service.rules.late_arrival import late_arrivals
from service.rules.pricing import parse_period
from tests.billing import FEB, S, invoice_of, issue, lines, member, plan_for
from tests.factories import make_run


@pytest.fixture
def released(held, priced):
    """The maker's laser booking, 10:00-13:00 on 10 February, released as a no-show."""
    return held("maker", "laser", "2026-02-10", "10:00-13:00", S.no_show)


def test_a_late_run_is_billed_as_a_walk_in_and_the_no_show_fee_is_waived(
    session, world, terms, released
):
    run = make_run(
        session, world, "laser", "2026-02-10 10:20", 7_200, who="maker", unauthorised=True
    )
    session.commit()
    invoice = invoice_of(issue(session, terms), world, "maker")
    (line,) = lines(session, invoice)
    # 120 min × 22,000 / 60 = 44,000; no no-show line.
    assert (line.basis, line.quantity_minutes, line.amount) == (LineBasis.run_time, 120, 44_000)
    assert (line.usage_session_id, line.reservation_id) == (run.id, released.id)
    assert "late arrival, no-show waived" in line.description
    assert invoice.total == 44_000


def test_each_late_run_is_its_own_unit_with_the_plan_minimum(session, world, terms, held):
    plan_for(
        session, world, "printer", basis=RateBasis.run_time, price_per_hour=6_000, min_minutes=15
    )
    held("maker", "printer", "2026-02-10", "10:00-12:00", S.no_show)
    for start in ("10:30", "11:00"):
        make_run(
            session, world, "printer", f"2026-02-10 {start}", 180, who="maker", unauthorised=True
        )
    session.commit()
    found = lines(session, invoice_of(issue(session, terms), world, "maker"))
    # Two walk-in runs of 3 min, each charged the 15-minute minimum: 15 × 6,000 / 60 = 1,500.
    assert [(x.quantity_minutes, x.amount) for x in found] == [(15, 1_500), (15, 1_500)]


def test_a_late_run_gets_the_membership_discount_of_a_walk_in(session, world, terms, released):
    member(session, world, "maker", fee=50_000, discount=30)
    make_run(session, world, "laser", "2026-02-10 10:20", 7_200, who="maker", unauthorised=True)
    session.commit()
    found = lines(session, invoice_of(issue(session, terms), world, "maker"))
    # 44,000 × 70 % = 30,800, then the monthly fee.
    assert [(x.basis, x.amount) for x in found] == [
        (LineBasis.membership, 50_000),
        (LineBasis.run_time, 30_800),
    ]


def test_a_run_by_someone_else_is_not_the_bookers_late_arrival(session, world, terms, released):
    make_run(session, world, "laser", "2026-02-10 10:20", 7_200, who="other", unauthorised=True)
    session.commit()
    done = issue(session, terms)
    (line,) = lines(session, invoice_of(done, world, "maker"))
    assert (line.basis, line.amount) == (LineBasis.no_show, 33_000)
    assert all(i.account_id != world.id("other") for i in done.created)


@pytest.mark.parametrize("start", ["2026-02-10 13:00", "2026-02-10 09:59"])
def test_a_run_outside_the_booked_span_is_not_a_late_arrival(
    session, world, terms, released, start
):
    make_run(session, world, "laser", start, 600, who="maker", unauthorised=True)
    session.commit()
    (line,) = lines(session, invoice_of(issue(session, terms), world, "maker"))
    assert (line.basis, line.amount) == (LineBasis.no_show, 33_000)


def test_a_run_without_a_badge_names_nobody_and_stays_unbilled(session, world, terms, released):
    make_run(session, world, "laser", "2026-02-10 10:20", 600, unauthorised=True)
    session.commit()
    (line,) = lines(session, invoice_of(issue(session, terms), world, "maker"))
    assert line.basis == LineBasis.no_show


def test_the_rule_pairs_the_run_with_its_booking(session, world, terms, released):
    run = make_run(session, world, "laser", "2026-02-10 12:59", 60, who="maker", unauthorised=True)
    session.commit()
    month = parse_period(FEB, terms.zone)
    found = late_arrivals(session=session, start=month.start, end=month.end)
    assert {k: v.id for k, v in found.runs.items()} == {run.id: released.id}
    assert found.waived == {released.id}
