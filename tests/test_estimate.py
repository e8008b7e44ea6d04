"""The price shown before booking: what the minutes cost at the rate, the discount, a no-show."""

from __future__ import annotations

from service.models import RateBasis
from service.rules.pricing import Rate, estimate


def rate(basis: RateBasis, *, price: int = 6_000, monthly: int = 0, min_minutes: int = 0) -> Rate:
    return Rate(
        basis=basis,
        price_per_hour=price,
        monthly_price=monthly,
        no_show_percent=50,
        min_minutes=min_minutes,
    )


def test_booked_time_costs_its_minutes_at_the_hourly_price():
    got = estimate(rate=rate(RateBasis.booked_time), minutes=90)
    assert (got.amount, got.no_show_amount, got.minutes) == (9_000, 4_500, 90)
    assert (got.basis, got.price_per_hour, got.discount_percent) == (
        RateBasis.booked_time,
        6_000,
        0,
    )
    assert (got.monthly_price, got.no_show_percent) == (0, 50)


def test_run_time_is_at_least_the_plans_shortest_run_but_booked_time_is_not():
    short = rate(RateBasis.run_time, min_minutes=60)
    assert estimate(rate=short, minutes=30).amount == 6_000
    assert estimate(rate=short, minutes=90).amount == 9_000
    booked = rate(RateBasis.booked_time, min_minutes=60)
    assert estimate(rate=booked, minutes=30).amount == 3_000


def test_the_discount_comes_off_the_time_but_not_off_a_no_show():
    got = estimate(rate=rate(RateBasis.run_time), minutes=60, discount_percent=30)
    assert (got.amount, got.no_show_amount, got.discount_percent) == (4_200, 3_000, 30)


def test_a_monthly_room_costs_nothing_per_booking_and_shows_its_monthly_price():
    got = estimate(rate=rate(RateBasis.monthly, monthly=500_000), minutes=120)
    assert (got.amount, got.no_show_amount, got.monthly_price) == (0, 0, 500_000)


def test_a_price_is_rounded_once_half_up():
    # 7 minutes at 1,000/h is 116.67 won; 3 minutes is 50 exactly, half of 100.
    assert estimate(rate=rate(RateBasis.booked_time, price=1_000), minutes=7).amount == 117
    assert estimate(rate=rate(RateBasis.booked_time, price=1_000), minutes=3).amount == 50
