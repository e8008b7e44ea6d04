"""Money edges: VAT landing on a half won, rounding guards, periods and default rates."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from service.models import RateBasis, RatePlan, Resource, ResourceKind
from service.rules.pricing import (
    BillingTerms,
    billed_minutes,
    parse_period,
    rate_for,
    round_half_up,
    time_charge,
    vat_split,
)
from tests.factories import seoul

SEOUL = ZoneInfo("Asia/Seoul")
TERMS = BillingTerms(zone=SEOUL, currency="KRW", vat_rate=Decimal("0.1"), no_show_percent=50)


@pytest.mark.parametrize(
    "total,vat,net",
    [
        # At 20 % the VAT is a sixth of the total: 3, 9 and 15 won put it on .5 exactly.
        (3, 1, 2),
        (9, 2, 7),
        (15, 3, 12),
        (-15, -3, -12),
        (2, 0, 2),
        (4, 1, 3),
        (12_000, 2_000, 10_000),
    ],
)
def test_vat_on_exactly_half_a_won_rounds_up_at_a_twenty_percent_rate(total, vat, net):
    assert vat_split(total, Decimal("0.2")) == (vat, net)


def test_vat_split_returns_plain_integers():
    vat, net = vat_split(15, Decimal("0.2"))
    assert type(vat) is int and type(net) is int


@pytest.mark.parametrize("denominator", [0, -1, -60])
def test_round_half_up_refuses_a_denominator_that_is_not_positive(denominator):
    with pytest.raises(ValueError, match="^denominator must be positive$"):
        round_half_up(7, denominator)


@pytest.mark.parametrize(
    "numerator,denominator,expected",
    [(1, 1, 1), (0, 7, 0), (3, 2, 2), (-3, 2, -2), (5, 4, 1), (-5, 4, -1), (7, 4, 2), (-1, 3, 0)],
)
def test_round_half_up_at_small_values(numerator, denominator, expected):
    assert round_half_up(numerator, denominator) == expected


@pytest.mark.parametrize(
    "seconds,minimum,expected",
    [(0, 15, 0), (-30, 15, 0), (1, 0, 1), (60, 0, 1), (61, 0, 2), (59, 5, 5), (600, 5, 10)],
)
def test_billed_minutes_round_up_and_apply_the_minimum_only_to_real_runs(
    seconds, minimum, expected
):
    assert billed_minutes(seconds, minimum) == expected


def test_billed_minutes_default_to_no_minimum():
    assert billed_minutes(61) == 2


def test_time_charge_defaults_to_the_full_price():
    assert time_charge(30, 22_000) == 11_000
    assert time_charge(1, 10_001) == 167  # 166.68 won
    assert time_charge(3, 10, 50) == 0  # 0.25 won
    assert time_charge(9, 10, 50) == 1  # 0.75 won


@pytest.mark.parametrize(
    "text,start,end",
    [
        ("2026-01", "2026-01-01 00:00", "2026-02-01 00:00"),
        ("2026-11", "2026-11-01 00:00", "2026-12-01 00:00"),
        ("2026-12", "2026-12-01 00:00", "2027-01-01 00:00"),
        ("2099-10", "2099-10-01 00:00", "2099-11-01 00:00"),
    ],
)
def test_a_period_runs_from_the_first_to_the_next_first_in_the_site_zone(text, start, end):
    period = parse_period(text, SEOUL)
    assert (period.name, period.start, period.end) == (text, seoul(start), seoul(end))


def test_a_refused_period_names_the_text_it_was_given():
    from service.errors import RuleViolation

    with pytest.raises(RuleViolation) as refused:
        parse_period("1999-01", SEOUL)
    assert "'1999-01'" in refused.value.message and "YYYY-MM" in refused.value.message


def _resource(kind: ResourceKind, rate: int) -> Resource:
    return Resource(site_id=1, slug="r", name="r", kind=kind, rate_per_hour=rate)


def test_a_machine_without_a_plan_is_billed_by_run_time_at_its_own_rate():
    rate = rate_for(_resource(ResourceKind.machine, 22_000), None, TERMS)
    assert rate.basis == RateBasis.run_time
    assert (rate.price_per_hour, rate.monthly_price, rate.no_show_percent, rate.min_minutes) == (
        22_000,
        0,
        50,
        0,
    )


def test_a_room_without_a_plan_is_billed_by_booked_time():
    rate = rate_for(_resource(ResourceKind.room, 10_000), None, TERMS)
    assert rate.basis == RateBasis.booked_time
    assert rate.price_per_hour == 10_000


def test_a_plan_sets_every_term_of_the_rate():
    plan = RatePlan(
        name="p",
        basis=RateBasis.monthly,
        price_per_hour=3_000,
        monthly_price=400_000,
        no_show_percent=25,
        min_minutes=15,
    )
    rate = rate_for(_resource(ResourceKind.room, 10_000), plan, TERMS)
    assert rate.basis == RateBasis.monthly
    assert (rate.price_per_hour, rate.monthly_price, rate.no_show_percent, rate.min_minutes) == (
        3_000,
        400_000,
        25,
        15,
    )


def test_billing_terms_read_zone_currency_vat_and_no_show_share_from_settings(settings):
    terms = BillingTerms.from_settings(settings)
    assert terms.zone == ZoneInfo(settings.site.default_timezone)
    assert terms.currency == settings.billing.currency
    assert terms.vat_rate == Decimal(str(settings.billing.vat_rate))
    assert terms.no_show_percent == settings.billing.no_show_percent
