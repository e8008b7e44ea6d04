"""Money arithmetic of billing: integer won, rounded once, half up; months of Seoul time."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from service.config import load_settings
from service.errors import RuleViolation
from service.rules.pricing import (
    BillingTerms,
    billed_minutes,
    parse_period,
    round_half_up,
    time_charge,
    vat_split,
)
from tests.factories import seoul


@pytest.fixture
def terms() -> BillingTerms:
    config = Path(__file__).resolve().parent.parent / "config.toml"
    return BillingTerms.from_settings(load_settings(path=config, environ={}))


@pytest.mark.parametrize(
    "numerator,denominator,expected",
    [(5, 10, 1), (4, 10, 0), (15, 10, 2), (14, 10, 1), (-5, 10, -1), (-4, 10, 0), (0, 7, 0)],
)
def test_round_half_up_sends_halves_away_from_zero(numerator, denominator, expected):
    assert round_half_up(numerator, denominator) == expected


@pytest.mark.parametrize(
    "seconds,minimum,expected",
    [(0, 0, 0), (1, 0, 1), (60, 0, 1), (61, 0, 2), (3599, 0, 60), (180, 15, 15), (0, 15, 0)],
)
def test_run_time_is_rounded_up_to_the_minute_and_to_the_minimum(seconds, minimum, expected):
    assert billed_minutes(seconds, minimum) == expected


@pytest.mark.parametrize(
    "minutes,price,percent,expected",
    [
        (61, 22_000, 100, 22_367),  # 22,366.67
        (1, 22_000, 100, 367),  # 366.67
        (1, 30, 100, 1),  # 0.5 exactly: half up
        (1, 29, 100, 0),  # 0.48
        (10, 22_000, 70, 2_567),  # 30 % off 3,666.67 = 2,566.67, rounded once
        (120, 10_000, 50, 10_000),
    ],
)
def test_time_charge_rounds_once_half_up_to_whole_won(minutes, price, percent, expected):
    assert time_charge(minutes, price, percent) == expected


@pytest.mark.parametrize(
    "total,vat,net",
    [
        (11_000, 1_000, 10_000),
        (22_734, 2_067, 20_667),
        (6, 1, 5),
        (5, 0, 5),
        (0, 0, 0),
        (-22_734, -2_067, -20_667),
    ],
)
def test_vat_is_the_included_tenth_of_eleven_rounded_half_up(total, vat, net):
    assert vat_split(total, Decimal("0.1")) == (vat, net)


def test_vat_split_takes_the_configured_rate_through_its_decimal_text(terms):
    assert terms.vat_rate == Decimal("0.1")
    assert vat_split(1_050, Decimal("0.05")) == (50, 1_000)


def test_a_period_is_a_calendar_month_of_seoul_time(terms):
    feb = parse_period("2026-02", terms.zone)
    assert feb.start == seoul("2026-02-01 00:00") and feb.end == seoul("2026-03-01 00:00")
    dec = parse_period("2026-12", terms.zone)
    assert dec.end == seoul("2027-01-01 00:00")


@pytest.mark.parametrize("bad", ["2026-2", "2026-13", "2026-00", "26-02", "2026-02-01", "", "x"])
def test_a_period_not_in_the_form_yyyy_mm_is_refused(terms, bad):
    with pytest.raises(RuleViolation) as refused:
        parse_period(bad, terms.zone)
    assert refused.value.code == "invalid_period"
