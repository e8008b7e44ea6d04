"""Helpers of the billing tests: issuing a month, reading invoices, plans and members."""

from __future__ import annotations

from datetime import date

from service.models import (
    AccountMembership,
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
