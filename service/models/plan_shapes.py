"""What an administrator sends to price resources and give memberships, and what they read.

Days (`valid_from`, `valid_to`) are calendar days of the billing zone; `valid_to` is
the first day a version or membership no longer applies (None: open).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from .billing import ChargeUnit, RateBasis
from .types import Id

Won = Annotated[int, Field(ge=0, le=100_000_000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RateTerms(_Strict):
    price_per_hour: Won = 0
    monthly_price: Won = 0
    no_show_percent: int = Field(default=50, ge=0, le=100)
    min_minutes: int = Field(default=0, ge=0, le=1440)


class RatePlanCreate(RateTerms):
    name: str = Field(min_length=1, max_length=200)
    basis: RateBasis
    charge_unit: ChargeUnit = ChargeUnit.reservation


class RatePriceCreate(RateTerms):
    """A new price from `valid_from` on; the price before it ends the day before."""

    valid_from: date


class RatePriceVersion(RateTerms):
    valid_from: date | None  # None: the plan's first terms, valid from the beginning
    valid_to: date | None


class RatePlanPublic(BaseModel):
    id: int
    name: str
    basis: RateBasis
    charge_unit: ChargeUnit
    prices: list[RatePriceVersion]


class MembershipTerms(_Strict):
    monthly_fee: Won = 0
    discount_percent: int = Field(default=0, ge=0, le=100)


class MembershipPlanCreate(MembershipTerms):
    name: str = Field(min_length=1, max_length=200)


class MembershipPriceCreate(MembershipTerms):
    valid_from: date


class MembershipPriceVersion(MembershipTerms):
    valid_from: date | None
    valid_to: date | None


class MembershipPlanPublic(BaseModel):
    id: int
    name: str
    prices: list[MembershipPriceVersion]


class MembershipCreate(_Strict):
    membership_plan_id: Id
    valid_from: date
    valid_to: date | None = None


class MembershipEnd(_Strict):
    valid_to: date


class MembershipPublic(BaseModel):
    id: int
    account_id: int
    membership_plan_id: int
    plan_name: str
    valid_from: date
    valid_to: date | None
