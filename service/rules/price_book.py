"""The prices and memberships valid on a day: the one place billing looks them up.

Versions are valid for days of the billing zone, `valid_from` included and
`valid_to` excluded (models/prices.py). A usage is priced by the version valid on
the day it starts. A resource is charged by its `resource_pricing` version valid
that day (its plan, or none and its hourly rate; before its first version, the
first; without any, its own columns); a plan without a version for that day uses
its own columns (its first terms). A membership discounts the usage that starts on a day it is
held. Its fee is charged in whole months: every month in which it is held on at
least one day costs the fee valid on the first such day, once per plan and month.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from ..models import (
    AccountMembership,
    MembershipPlan,
    MembershipPlanPrice,
    RatePlan,
    RatePlanPrice,
    Resource,
    ResourcePricing,
)
from .pricing import BillingTerms, Period, Rate, rate_for


class _Dated(Protocol):
    @property
    def valid_from(self) -> date: ...
    @property
    def valid_to(self) -> date | None: ...


def valid_on(row: _Dated, day: date) -> bool:
    """Whether `row` is valid on `day`: from `valid_from` up to, not including, `valid_to`."""
    return row.valid_from <= day and (row.valid_to is None or day < row.valid_to)


@dataclass(frozen=True)
class Membership:
    """A membership plan's terms on one day."""

    plan_id: int
    name: str
    monthly_fee: int
    discount_percent: int


@dataclass(frozen=True)
class Charging:
    """A resource's plan (its first terms) or hourly rate, from `valid_from` to `valid_to`."""

    valid_from: date
    valid_to: date | None
    plan_id: int | None
    base: Rate


def charging_on(versions: list[Charging], day: date) -> Charging:
    """The version valid on `day`; before the first one, the first one."""
    for version in versions:
        if valid_on(version, day):
            return version
    return versions[0]


@dataclass(frozen=True)
class PriceBook:
    """Every plan, price version and membership, read once for a run of billing."""

    zone: ZoneInfo
    base: dict[int, Rate]  # resource id -> its current plan's first terms, or its hourly rate
    charging: dict[int, list[Charging]]  # resource id -> its dated plan or rate, in order
    rate_versions: dict[int, list[RatePlanPrice]]
    membership_plans: dict[int, MembershipPlan]
    membership_versions: dict[int, list[MembershipPlanPrice]]
    memberships: dict[int, list[AccountMembership]]  # account id -> its memberships

    def day(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    def rate(self, resource_id: int, at: datetime) -> Rate:
        """How `resource_id` is charged for a usage starting at `at`."""
        day = self.day(at)
        charging = charging_on(self.charging[resource_id], day)
        base, plan_id = charging.base, charging.plan_id
        if plan_id is None:
            return base
        for version in self.rate_versions.get(plan_id, ()):
            if valid_on(version, day):
                return replace(
                    base,
                    price_per_hour=version.price_per_hour,
                    monthly_price=version.monthly_price,
                    no_show_percent=version.no_show_percent,
                    min_minutes=version.min_minutes,
                )
        return base

    def plan_terms(self, plan_id: int, day: date) -> Membership:
        """A membership plan's fee and discount on `day`."""
        plan = self.membership_plans[plan_id]
        fee, discount = plan.monthly_fee, plan.discount_percent
        for version in self.membership_versions.get(plan_id, ()):
            if valid_on(version, day):
                fee, discount = version.monthly_fee, version.discount_percent
        return Membership(plan_id, plan.name, fee, discount)

    def discount(self, account_id: int, at: datetime) -> int:
        """The best membership discount `account_id` holds on the day `at` falls on."""
        day = self.day(at)
        held = [m for m in self.memberships.get(account_id, ()) if valid_on(m, day)]
        terms = (self.plan_terms(m.membership_plan_id, day) for m in held)
        return max((t.discount_percent for t in terms), default=0)

    def fees(self, period: Period) -> list[tuple[int, Membership]]:
        """(account, terms) of every membership fee due for `period`, by account and plan."""
        first = period.start.astimezone(self.zone).date()
        last = period.end.astimezone(self.zone).date() - timedelta(days=1)
        due: dict[tuple[int, int], date] = {}
        for account_id, held in self.memberships.items():
            for membership in held:
                start = max(first, membership.valid_from)
                ended = membership.valid_to is not None and membership.valid_to <= start
                if start > last or ended:
                    continue
                key = (account_id, membership.membership_plan_id)
                due[key] = min(due.get(key, start), start)
        return [
            (account_id, self.plan_terms(plan_id, day))
            for (account_id, plan_id), day in sorted(due.items())
        ]


def load(*, session: Session, terms: BillingTerms) -> PriceBook:
    """Read the whole price book (plans are few; versions fewer than usages)."""
    plans = {p.id or 0: p for p in session.exec(select(RatePlan))}
    resources = list(session.exec(select(Resource)))
    rate_versions: dict[int, list[RatePlanPrice]] = defaultdict(list)
    for price in session.exec(select(RatePlanPrice).order_by(col(RatePlanPrice.valid_from))):
        rate_versions[price.rate_plan_id].append(price)
    membership_versions: dict[int, list[MembershipPlanPrice]] = defaultdict(list)
    for fee in session.exec(
        select(MembershipPlanPrice).order_by(col(MembershipPlanPrice.valid_from))
    ):
        membership_versions[fee.membership_plan_id].append(fee)
    memberships: dict[int, list[AccountMembership]] = defaultdict(list)
    for held in session.exec(select(AccountMembership).order_by(col(AccountMembership.valid_from))):
        memberships[held.account_id].append(held)
    dated: dict[int, list[ResourcePricing]] = defaultdict(list)
    for pricing in session.exec(select(ResourcePricing).order_by(col(ResourcePricing.valid_from))):
        dated[pricing.resource_id].append(pricing)

    def charging(resource: Resource) -> list[Charging]:
        versions = dated.get(resource.id or 0) or [resource_pricing_of(resource)]
        return [
            Charging(
                valid_from=v.valid_from,
                valid_to=v.valid_to,
                plan_id=v.rate_plan_id,
                base=rate_for(
                    resource,
                    plans.get(v.rate_plan_id) if v.rate_plan_id else None,
                    terms,
                    per_hour=v.rate_per_hour,
                ),
            )
            for v in versions
        ]

    return PriceBook(
        zone=terms.zone,
        base={
            r.id or 0: rate_for(r, plans.get(r.rate_plan_id) if r.rate_plan_id else None, terms)
            for r in resources
        },
        charging={r.id or 0: charging(r) for r in resources},
        rate_versions=dict(rate_versions),
        membership_plans={p.id or 0: p for p in session.exec(select(MembershipPlan))},
        membership_versions=dict(membership_versions),
        memberships=dict(memberships),
    )


def resource_pricing_of(resource: Resource) -> ResourcePricing:
    """A resource's own columns as one open version (resources saved before versions)."""
    return ResourcePricing(
        resource_id=resource.id or 0,
        valid_from=date(2000, 1, 1),
        rate_plan_id=resource.rate_plan_id,
        rate_per_hour=resource.rate_per_hour,
        created_at=datetime(2000, 1, 1, tzinfo=UTC),
    )
