"""Demo rate plans and memberships; prices are integer won, VAT included.

Resources without a plan keep their hourly rate (machines by run time, rooms by
booked time). A plan or membership already set is left as it is. Prices change
by dated versions (models/prices.py): the demo's 100 W laser went up in July.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from sqlmodel import Session, col, select

from ..models import (
    Account,
    AccountMembership,
    MembershipPlan,
    RateBasis,
    RatePlan,
    RatePlanPrice,
    Resource,
)

RUN, BOOKED, MONTHLY = RateBasis.run_time, RateBasis.booked_time, RateBasis.monthly

# name -> (basis, per hour, per month, no-show share %, minimum minutes per run)
RATE_PLANS: dict[str, tuple[RateBasis, int, int, int, int]] = {
    "레이저 커터 (100W) 사용시간 / Laser cutter 100 W, run time": (RUN, 25_000, 0, 50, 10),
    "레이저 커터 (60W) 사용시간 / Laser cutter 60 W, run time": (RUN, 20_000, 0, 50, 10),
    "CNC 라우터 사용시간 / CNC router, run time": (RUN, 45_000, 0, 100, 30),
    "입주공간 월 임대 (2–3인실) / Incubation office for 2–3, monthly": (MONTHLY, 0, 300_000, 0, 0),
    "입주공간 월 임대 (4–6인실) / Incubation office for 4–6, monthly": (MONTHLY, 0, 450_000, 0, 0),
    "VR·AR 쇼룸 시간제 / VR/AR showroom, hourly": (BOOKED, 50_000, 0, 100, 0),
}

# (site slug, resource slug) -> rate plan name
PLAN_OF: dict[tuple[str, str], str] = {
    ("seongsu", "laser-1"): "레이저 커터 (100W) 사용시간 / Laser cutter 100 W, run time",
    ("seongsu", "laser-2"): "레이저 커터 (60W) 사용시간 / Laser cutter 60 W, run time",
    ("seongsu", "cnc-router-1"): "CNC 라우터 사용시간 / CNC router, run time",
    ("seongsu", "incubator-301"): "입주공간 월 임대 (2–3인실) / Incubation office for 2–3, monthly",
    ("seongsu", "incubator-302"): "입주공간 월 임대 (2–3인실) / Incubation office for 2–3, monthly",
    ("seongsu", "incubator-303"): "입주공간 월 임대 (4–6인실) / Incubation office for 4–6, monthly",
    ("seongsu", "incubator-401"): "입주공간 월 임대 (4–6인실) / Incubation office for 4–6, monthly",
    ("seongsu", "showroom"): "VR·AR 쇼룸 시간제 / VR/AR showroom, hourly",
}

# rate plan name -> (first day, per hour, per month, no-show share %, minimum minutes)
PRICE_CHANGES: dict[str, tuple[date, int, int, int, int]] = {
    "레이저 커터 (100W) 사용시간 / Laser cutter 100 W, run time": (
        date(2026, 7, 1),
        27_000,
        0,
        50,
        10,
    ),
}
# When the demo's price list and memberships were written down.
SEEDED_AT = datetime(2026, 1, 1, tzinfo=UTC)

TENANT = "입주기업 멤버십 / Incubation tenant"
MAKER = "메이커 멤버십 / Maker membership"
# name -> (monthly fee, discount on machine time %); the tenants' rent covers their fee.
MEMBERSHIPS: dict[str, tuple[int, int]] = {TENANT: (0, 30), MAKER: (50_000, 10)}

# e-mail -> (membership, first day): the people of the resident firms, and a freelancer.
MEMBERS: dict[str, tuple[str, date]] = {
    "maker@smartfab.example": (TENANT, date(2026, 1, 1)),  # 한결수제화, in office 301
    "jiwoo.park@smartfab.example": (TENANT, date(2026, 1, 1)),  # 성수슈즈랩, in office 302
    "seoyeon.jang@smartfab.example": (MAKER, date(2026, 9, 1)),
}


def seed_billing(
    *,
    session: Session,
    resources: dict[tuple[str, str], Resource],
    accounts: dict[str, Account],
    tally: Counter[str],
) -> None:
    """Add the missing plans and memberships, and give them to those who have none."""
    plans = {
        p.name: p for p in session.exec(select(RatePlan).where(col(RatePlan.name).in_(RATE_PLANS)))
    }
    for name, (basis, hourly, monthly, no_show, minimum) in RATE_PLANS.items():
        if name not in plans:
            plans[name] = RatePlan(
                name=name,
                basis=basis,
                price_per_hour=hourly,
                monthly_price=monthly,
                no_show_percent=no_show,
                min_minutes=minimum,
            )
            session.add(plans[name])
            tally["rate plans"] += 1
    memberships = {
        m.name: m
        for m in session.exec(
            select(MembershipPlan).where(col(MembershipPlan.name).in_(MEMBERSHIPS))
        )
    }
    for name, (fee, discount) in MEMBERSHIPS.items():
        if name not in memberships:
            memberships[name] = MembershipPlan(
                name=name, monthly_fee=fee, discount_percent=discount
            )
            session.add(memberships[name])
            tally["memberships"] += 1
    session.flush()
    for key, name in PLAN_OF.items():
        resource = resources[key]
        if resource.rate_plan_id is None:
            resource.rate_plan_id = plans[name].id
            session.add(resource)
            tally["priced resources"] += 1
    _seed_versions(session, plans, tally)
    held = set(session.exec(select(AccountMembership.account_id)))
    for email, (name, since) in MEMBERS.items():
        account = accounts[email]
        if account.id not in held:
            session.add(
                AccountMembership(
                    account_id=account.id or 0,
                    membership_plan_id=memberships[name].id or 0,
                    valid_from=since,
                    created_at=SEEDED_AT,
                )
            )
            tally["members"] += 1


def _seed_versions(session: Session, plans: dict[str, RatePlan], tally: Counter[str]) -> None:
    """A plan without dated prices gets the demo's price changes."""
    dated = set(session.exec(select(RatePlanPrice.rate_plan_id)))
    for name, (since, hourly, monthly, no_show, minimum) in PRICE_CHANGES.items():
        plan = plans[name]
        if plan.id in dated:
            continue
        session.add(
            RatePlanPrice(
                rate_plan_id=plan.id or 0,
                valid_from=since,
                price_per_hour=hourly,
                monthly_price=monthly,
                no_show_percent=no_show,
                min_minutes=minimum,
                created_at=SEEDED_AT,
            )
        )
        tally["price versions"] += 1
