"""Prices and memberships in time: each version is valid for a span of days.

Dates are calendar days in the billing zone (`[site] default_timezone`, the zone
of the billing months): a version is valid from `valid_from` (included) to
`valid_to` (excluded; None: still valid). A plan's own price columns are its first
terms, valid until its first dated version; they are never changed afterwards.
Changing a price closes the open version at a day and opens a new one.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime


class RatePlanPrice(SQLModel, table=True):
    """The terms of a rate plan from one day on."""

    __tablename__ = "rate_plan_price"
    __table_args__ = (UniqueConstraint("rate_plan_id", "valid_from"),)

    id: int | None = Field(default=None, primary_key=True)
    rate_plan_id: int = Field(foreign_key="rate_plan.id", index=True)
    valid_from: date
    valid_to: date | None = None
    price_per_hour: int = Field(default=0, ge=0)
    monthly_price: int = Field(default=0, ge=0)
    no_show_percent: int = Field(default=50, ge=0, le=100)
    min_minutes: int = Field(default=0, ge=0)
    created_at: datetime = Field(sa_type=UTCDateTime)


class MembershipPlanPrice(SQLModel, table=True):
    """The fee and discount of a membership plan from one day on."""

    __tablename__ = "membership_plan_price"
    __table_args__ = (UniqueConstraint("membership_plan_id", "valid_from"),)

    id: int | None = Field(default=None, primary_key=True)
    membership_plan_id: int = Field(foreign_key="membership_plan.id", index=True)
    valid_from: date
    valid_to: date | None = None
    monthly_fee: int = Field(default=0, ge=0)
    discount_percent: int = Field(default=0, ge=0, le=100)
    created_at: datetime = Field(sa_type=UTCDateTime)


class AccountMembership(SQLModel, table=True):
    """An account holding a membership plan for a span of days."""

    __tablename__ = "account_membership"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    membership_plan_id: int = Field(foreign_key="membership_plan.id", index=True)
    valid_from: date
    valid_to: date | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)


class ResourcePricing(SQLModel, table=True):
    """How a resource is charged from one day on: its rate plan, or its hourly rate.

    `resource.rate_plan_id` and `resource.rate_per_hour` mirror the latest version
    (the one an admin set last, possibly from tomorrow); billing reads the versions.
    """

    __tablename__ = "resource_pricing"
    __table_args__ = (UniqueConstraint("resource_id", "valid_from"),)

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(foreign_key="resource.id", index=True)
    valid_from: date
    valid_to: date | None = None
    rate_plan_id: int | None = Field(default=None, foreign_key="rate_plan.id")
    rate_per_hour: int = Field(default=0, ge=0)
    created_at: datetime = Field(sa_type=UTCDateTime)
