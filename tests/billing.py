"""Helpers of the billing tests: issuing a month, reading invoices, plans and members."""

from __future__ import annotations

from datetime import date

from service.models import (
    Account,
    AccountMembership,
    Company,
    Invoice,
    InvoiceLine,
    MembershipPlan,
    RatePlan,
    ReservationStatus,
    Resource,
)
from service.rules.invoicing import Issued, invoice_lines, issue_invoices
from tests.conftest import CURRENT_TIME

FEB = "2026-02"
S = ReservationStatus


def issue(session, terms, period=FEB, now=CURRENT_TIME) -> Issued:
    """Issue a month as one unit of work, as the command line does."""
    done = issue_invoices(session=session, now=now, terms=terms, period=period, actor_id=None)
    session.commit()
    return done


def invoice_of(done: Issued, world, who: str) -> Invoice:
    (found,) = [i for i in done.created if i.account_id == world.id(who)]
    return found


def lines(session, invoice: Invoice) -> list[InvoiceLine]:
    return invoice_lines(session=session, invoice_id=invoice.id)


def plan_for(session, world, resource: str, **kw) -> RatePlan:
    plan = RatePlan(name=kw.pop("name", f"plan {resource}"), **kw)
    session.add(plan)
    session.flush()
    row = session.get(Resource, world.id(resource))
    row.rate_plan_id = plan.id
    session.add(row)
    session.commit()
    return plan


def member(
    session,
    world,
    who: str,
    fee: int = 50_000,
    discount: int = 30,
    since: date = date(2000, 1, 1),
    until: date | None = None,
) -> MembershipPlan:
    plan = MembershipPlan(
        name="입주기업 멤버십 / Incubation tenant", monthly_fee=fee, discount_percent=discount
    )
    session.add(plan)
    session.flush()
    session.add(
        AccountMembership(
            account_id=world.id(who),
            membership_plan_id=plan.id,
            valid_from=since,
            valid_to=until,
            created_at=CURRENT_TIME,
        )
    )
    session.commit()
    return plan


def two_laser_runs_and_a_lathe_run(session, world) -> None:
    """February: the maker (of 한결수제화) ran the laser 10 and 25 minutes at 22,000 won an
    hour; the other maker, billed personally, the lathe 90 minutes at 20,000 won an hour."""
    from tests.factories import make_run

    company = Company(
        name="한결수제화",
        business_number="206-12-34567",
        representative="김한결",
        address="서울특별시 성동구 성수이로 78, 2층",
        email="tax@hangyeol-shoes.example",
    )
    session.add(company)
    session.flush()
    maker = session.get(Account, world.id("maker"))
    maker.company_id = company.id
    session.add(maker)
    lathe = session.get(Resource, world.id("lathe"))
    lathe.rate_per_hour = 20_000
    session.add(lathe)
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    make_run(session, world, "laser", "2026-02-12 15:00", 1500, who="maker")
    make_run(session, world, "lathe", "2026-02-11 14:00", 5400, who="other")
    session.commit()
