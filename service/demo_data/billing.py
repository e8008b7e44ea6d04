"""Demo rate plans and memberships; prices are integer won, VAT included.

Resources without a plan keep their hourly rate (machines by run time, rooms by
booked time). A plan or membership already set is left as it is.
"""

from __future__ import annotations

from collections import Counter

from sqlmodel import Session, col, select

from ..models import Account, MembershipPlan, RateBasis, RatePlan, Resource

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

TENANT = "입주기업 멤버십 / Incubation tenant"
MAKER = "메이커 멤버십 / Maker membership"
# name -> (monthly fee, discount on machine time %); the tenants' rent covers their fee.
MEMBERSHIPS: dict[str, tuple[int, int]] = {TENANT: (0, 30), MAKER: (50_000, 10)}

# e-mail -> membership: the people of the resident firms, and a freelance designer.
MEMBERS: dict[str, str] = {
    "maker@smartfab.example": TENANT,  # 한결수제화, in office 301
    "jiwoo.park@smartfab.example": TENANT,  # 성수슈즈랩, in office 302
    "seoyeon.jang@smartfab.example": MAKER,
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
    for email, name in MEMBERS.items():
        account = accounts[email]
        if account.membership_plan_id is None:
            account.membership_plan_id = memberships[name].id
            session.add(account)
            tally["members"] += 1
