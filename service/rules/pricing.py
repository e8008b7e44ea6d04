"""Money arithmetic and the terms of a resource's rate: pure functions, integer won.

Prices include VAT. Amounts are rounded once, half up, to whole won; floats never
touch money (the configured VAT rate goes through its decimal text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from ..config import Settings
from ..errors import RuleViolation
from ..models import ChargeUnit, RateBasis, RatePlan, Resource, ResourceKind

PERIOD = re.compile(r"^(?P<year>20\d\d)-(?P<month>0[1-9]|1[0-2])$")
PERIOD_PATTERN = PERIOD.pattern


@dataclass(frozen=True)
class BillingTerms:
    """What billing needs from the settings."""

    zone: ZoneInfo
    currency: str
    vat_rate: Decimal
    no_show_percent: int
    payment_due_days: int = 30
    # How long after a month's end a run still open holds its issue back.
    close_grace: timedelta = timedelta(hours=72)

    @classmethod
    def from_settings(cls, settings: Settings) -> BillingTerms:
        return cls(
            zone=ZoneInfo(settings.site.default_timezone),
            currency=settings.billing.currency,
            vat_rate=Decimal(str(settings.billing.vat_rate)),
            no_show_percent=settings.billing.no_show_percent,
            payment_due_days=settings.billing.payment_due_days,
            close_grace=timedelta(hours=settings.billing.close_grace_h),
        )


@dataclass(frozen=True)
class Period:
    """A calendar month in the site's time zone: [start, end)."""

    name: str
    start: datetime
    end: datetime


def parse_period(text: str, zone: ZoneInfo) -> Period:
    """`YYYY-MM` as a month of local time; anything else is a 422."""
    match = PERIOD.match(text)
    if match is None:
        raise RuleViolation(
            f"period must look like YYYY-MM, e.g. 2026-03, not {text!r}", code="invalid_period"
        )
    year, month = int(match["year"]), int(match["month"])
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return Period(text, start, end)


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, halves away from zero."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient = (2 * abs(numerator) + denominator) // (2 * denominator)
    return quotient if numerator >= 0 else -quotient


def billed_minutes(seconds: int, min_minutes: int = 0) -> int:
    """Run time in whole minutes, rounded up, and at least the plan's minimum."""
    minutes = -(-max(seconds, 0) // 60)
    return max(minutes, min_minutes) if minutes else 0


def time_charge(minutes: int, price_per_hour: int, percent: int = 100) -> int:
    """`percent` of `minutes` at `price_per_hour`, rounded once to whole won."""
    return round_half_up(minutes * price_per_hour * percent, 60 * 100)


def vat_split(total: int, vat_rate: Decimal) -> tuple[int, int]:
    """(vat, net) of a VAT-inclusive total: vat = total × rate / (1 + rate), half up."""
    vat = (Decimal(total) * vat_rate / (1 + vat_rate)).quantize(Decimal(1), ROUND_HALF_UP)
    return int(vat), total - int(vat)


@dataclass(frozen=True)
class Rate:
    """How one resource is charged, after defaults are applied."""

    basis: RateBasis
    price_per_hour: int
    monthly_price: int
    no_show_percent: int
    min_minutes: int
    charge_unit: ChargeUnit = ChargeUnit.reservation


def rate_for(
    resource: Resource, plan: RatePlan | None, terms: BillingTerms, *, per_hour: int | None = None
) -> Rate:
    """The resource's rate plan, or its hourly rate: machines by run time, rooms by booking.

    `per_hour` is the hourly rate of a dated version (default: the resource's own).
    """
    if plan is not None:
        return Rate(
            basis=RateBasis(plan.basis),
            price_per_hour=plan.price_per_hour,
            monthly_price=plan.monthly_price,
            no_show_percent=plan.no_show_percent,
            min_minutes=plan.min_minutes,
            charge_unit=ChargeUnit(plan.charge_unit),
        )
    basis = RateBasis.run_time if resource.kind == ResourceKind.machine else RateBasis.booked_time
    return Rate(
        basis=basis,
        price_per_hour=resource.rate_per_hour if per_hour is None else per_hour,
        monthly_price=0,
        no_show_percent=terms.no_show_percent,
        min_minutes=0,
    )


@dataclass(frozen=True)
class Estimate:
    """What a booking is expected to cost, counted as billing will count it.

    `amount` is exact for booked time; for run time it is the most the booking can
    cost (the machine running all along); a monthly room costs its monthly fee.
    """

    basis: RateBasis
    minutes: int
    price_per_hour: int
    discount_percent: int
    amount: int
    monthly_price: int
    no_show_percent: int
    no_show_amount: int


def estimate(*, rate: Rate, minutes: int, discount_percent: int = 0) -> Estimate:
    """The price of booking `minutes` at `rate`, less a membership discount where it applies."""
    if rate.basis == RateBasis.monthly:
        amount = no_show = 0
    else:
        charged = max(minutes, rate.min_minutes) if rate.basis == RateBasis.run_time else minutes
        amount = time_charge(charged, rate.price_per_hour, 100 - discount_percent)
        # A no-show is charged on the booked minutes, without the discount (as billing does).
        no_show = time_charge(minutes, rate.price_per_hour, rate.no_show_percent)
    return Estimate(
        basis=rate.basis,
        minutes=minutes,
        price_per_hour=rate.price_per_hour,
        discount_percent=discount_percent,
        amount=amount,
        monthly_price=rate.monthly_price,
        no_show_percent=rate.no_show_percent,
        no_show_amount=no_show,
    )
