"""Administering an account's memberships: staff read them, admins give and end them (audited).

A membership never changes what an invoiced month charged (admin_plans.refuse_billed,
for that account's invoices).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, col, select

from ..errors import Conflict, NotFound, RuleViolation
from ..models import Account, AccountMembership, MembershipPlan
from ..models.plan_shapes import MembershipCreate, MembershipEnd
from .accounts import Principal
from .admin_accounts import require_staff
from .admin_plans import audit, refuse_billed, require_admin


def memberships(
    *, session: Session, actor: Principal, account_id: int
) -> list[tuple[AccountMembership, MembershipPlan]]:
    """An account's memberships with their plans, by first day."""
    require_staff(actor)
    if session.get(Account, account_id) is None:
        raise NotFound("no such account")
    return list(
        session.exec(
            select(AccountMembership, MembershipPlan)
            .join(
                MembershipPlan,
                col(MembershipPlan.id) == col(AccountMembership.membership_plan_id),
            )
            .where(AccountMembership.account_id == account_id)
            .order_by(col(AccountMembership.valid_from))
        )
    )


def _check_span(
    session: Session, account_id: int, plan_id: int, start: date, end: date | None, skip: int
) -> None:
    if end is not None and end <= start:
        raise RuleViolation("a membership ends after it starts", code="empty_membership")
    for other in session.exec(
        select(AccountMembership).where(
            AccountMembership.account_id == account_id,
            AccountMembership.membership_plan_id == plan_id,
            AccountMembership.id != skip,
        )
    ):
        after_start = other.valid_to is None or start < other.valid_to
        if after_start and (end is None or other.valid_from < end):
            raise Conflict("the account already holds this plan then", code="membership_overlaps")


def add_membership(
    *, session: Session, now: datetime, actor: Principal, account_id: int, body: MembershipCreate
) -> AccountMembership:
    """Give an account a membership from `valid_from` (to `valid_to`, or open)."""
    require_admin(actor)
    # The account's row lock orders two memberships given to it at once (no overlap slips by).
    if (
        session.exec(select(Account).where(Account.id == account_id).with_for_update()).first()
        is None
    ):
        raise NotFound("no such account")
    if session.get(MembershipPlan, body.membership_plan_id) is None:
        raise NotFound("no such membership plan")
    refuse_billed(session=session, day=body.valid_from, account_id=account_id)
    _check_span(session, account_id, body.membership_plan_id, body.valid_from, body.valid_to, 0)
    held = AccountMembership(account_id=account_id, created_at=now, **body.model_dump())
    session.add(held)
    session.flush()
    audit(
        session,
        now,
        actor,
        "membership.create",
        f"account:{account_id}",
        membership_id=held.id,
        **body.model_dump(mode="json"),
    )
    return held


def end_membership(
    *,
    session: Session,
    now: datetime,
    actor: Principal,
    account_id: int,
    membership_id: int,
    body: MembershipEnd,
) -> AccountMembership:
    """Set the first day a membership no longer applies, outside invoiced months."""
    require_admin(actor)
    held = session.get(AccountMembership, membership_id)
    if held is None or held.account_id != account_id:
        raise NotFound("no such membership")
    changed_from = body.valid_to if held.valid_to is None else min(held.valid_to, body.valid_to)
    refuse_billed(session=session, day=changed_from, account_id=account_id)
    _check_span(
        session, account_id, held.membership_plan_id, held.valid_from, body.valid_to, held.id or 0
    )
    before = held.valid_to
    held.valid_to = body.valid_to
    session.add(held)
    session.flush()
    audit(
        session,
        now,
        actor,
        "membership.end",
        f"account:{account_id}",
        membership_id=held.id,
        valid_to=body.valid_to.isoformat(),
        was=before.isoformat() if before else None,
    )
    return held


def all_memberships(
    *, session: Session, actor: Principal
) -> list[tuple[AccountMembership, Account, MembershipPlan]]:
    """Every account's memberships, by person and first day."""
    require_staff(actor)
    return list(
        session.exec(
            select(AccountMembership, Account, MembershipPlan)
            .join(Account, col(Account.id) == col(AccountMembership.account_id))
            .join(
                MembershipPlan,
                col(MembershipPlan.id) == col(AccountMembership.membership_plan_id),
            )
            .order_by(col(Account.name), col(AccountMembership.valid_from))
        )
    )
