"""Administering rate plans and membership plans (audited); memberships: admin_memberships.py.

Staff read them; only admins change them. A price is never edited: a new version
closes the open one at its first day. Nothing may change what a billed month
charged: a version or membership change whose first affected day falls in a month
already invoiced is refused (409 `billed_period`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from ..errors import Conflict, Forbidden, NotFound, RuleViolation
from ..models import (
    Invoice,
    InvoiceKind,
    MembershipPlan,
    MembershipPlanPrice,
    RatePlan,
    RatePlanPrice,
)
from ..models.plan_shapes import (
    MembershipPlanCreate,
    MembershipPriceCreate,
    RatePlanCreate,
    RatePriceCreate,
)
from .accounts import Principal
from .admin_accounts import require_staff
from .audit import record


def require_admin(actor: Principal) -> None:
    if not actor.admin:
        raise Forbidden("only admins change prices and memberships")


def audit(
    session: Session, now: datetime, actor: Principal, action: str, subject: str, **detail: Any
) -> None:
    record(session=session, now=now, actor_id=actor.id, action=action, subject=subject, **detail)


def billed_through(*, session: Session, account_id: int | None = None) -> str | None:
    """The last month (`YYYY-MM`) with an invoice, of one account or of anyone."""
    query = select(func.max(Invoice.period)).where(Invoice.kind == InvoiceKind.invoice)
    if account_id is not None:
        query = query.where(Invoice.account_id == account_id)
    return session.exec(query).one()


def refuse_billed(*, session: Session, day: date, account_id: int | None = None) -> None:
    """Refuse a change from `day` on when `day`'s month is already invoiced."""
    last = billed_through(session=session, account_id=account_id)
    if last is not None and f"{day:%Y-%m}" <= last:
        raise Conflict(
            f"{day.isoformat()} falls in a month already invoiced (up to {last}); "
            "correct it with a credit note, or choose a later day",
            {"billed_through": last},
            code="billed_period",
        )


def _unique(session: Session, message: str) -> None:
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(message, code="name_taken") from None


# -- rate plans ---------------------------------------------------------------------------


def rate_plans(*, session: Session, actor: Principal) -> list[tuple[RatePlan, list[RatePlanPrice]]]:
    """Every rate plan by name, with its dated prices in order."""
    require_staff(actor)
    versions: dict[int, list[RatePlanPrice]] = {}
    for price in session.exec(select(RatePlanPrice).order_by(col(RatePlanPrice.valid_from))):
        versions.setdefault(price.rate_plan_id, []).append(price)
    plans = session.exec(select(RatePlan).order_by(col(RatePlan.name)))
    return [(plan, versions.get(plan.id or 0, [])) for plan in plans]


def create_rate_plan(
    *, session: Session, now: datetime, actor: Principal, body: RatePlanCreate
) -> RatePlan:
    require_admin(actor)
    plan = RatePlan(**body.model_dump())
    session.add(plan)
    _unique(session, "a rate plan of that name exists")
    audit(session, now, actor, "rate_plan.create", f"rate_plan:{plan.id}", **body.model_dump())
    return plan


_Version = TypeVar("_Version", RatePlanPrice, MembershipPlanPrice)


def _open_version(versions: list[_Version], valid_from: date) -> _Version | None:
    """The latest version, which the new one closes; a new one only goes after it."""
    if not versions:
        return None
    latest = versions[-1]
    if valid_from <= latest.valid_from:
        raise RuleViolation(
            f"a new price starts after the latest one ({latest.valid_from.isoformat()})",
            code="not_after_latest_price",
        )
    return latest


def add_rate_price(
    *, session: Session, now: datetime, actor: Principal, plan_id: int, body: RatePriceCreate
) -> RatePlanPrice:
    """Close the plan's open price the day before `valid_from` and open the new one."""
    require_admin(actor)
    # The plan's row lock orders two admins changing its price at once.
    locked = select(RatePlan).where(RatePlan.id == plan_id).with_for_update()
    if session.exec(locked).first() is None:
        raise NotFound("no such rate plan")
    refuse_billed(session=session, day=body.valid_from)
    versions = list(
        session.exec(
            select(RatePlanPrice)
            .where(RatePlanPrice.rate_plan_id == plan_id)
            .order_by(col(RatePlanPrice.valid_from))
        )
    )
    latest = _open_version(versions, body.valid_from)
    if latest is not None:
        latest.valid_to = body.valid_from
        session.add(latest)
    price = RatePlanPrice(rate_plan_id=plan_id, created_at=now, **body.model_dump())
    session.add(price)
    session.flush()
    audit(
        session,
        now,
        actor,
        "rate_plan.price",
        f"rate_plan:{plan_id}",
        **body.model_dump(mode="json"),
    )
    return price


# -- membership plans ---------------------------------------------------------------------


def membership_plans(
    *, session: Session, actor: Principal
) -> list[tuple[MembershipPlan, list[MembershipPlanPrice]]]:
    require_staff(actor)
    versions: dict[int, list[MembershipPlanPrice]] = {}
    for fee in session.exec(
        select(MembershipPlanPrice).order_by(col(MembershipPlanPrice.valid_from))
    ):
        versions.setdefault(fee.membership_plan_id, []).append(fee)
    plans = session.exec(select(MembershipPlan).order_by(col(MembershipPlan.name)))
    return [(plan, versions.get(plan.id or 0, [])) for plan in plans]


def create_membership_plan(
    *, session: Session, now: datetime, actor: Principal, body: MembershipPlanCreate
) -> MembershipPlan:
    require_admin(actor)
    plan = MembershipPlan(**body.model_dump())
    session.add(plan)
    _unique(session, "a membership plan of that name exists")
    audit(
        session,
        now,
        actor,
        "membership_plan.create",
        f"membership_plan:{plan.id}",
        **body.model_dump(),
    )
    return plan


def add_membership_price(
    *,
    session: Session,
    now: datetime,
    actor: Principal,
    plan_id: int,
    body: MembershipPriceCreate,
) -> MembershipPlanPrice:
    require_admin(actor)
    locked = select(MembershipPlan).where(MembershipPlan.id == plan_id).with_for_update()
    if session.exec(locked).first() is None:
        raise NotFound("no such membership plan")
    refuse_billed(session=session, day=body.valid_from)
    versions = list(
        session.exec(
            select(MembershipPlanPrice)
            .where(MembershipPlanPrice.membership_plan_id == plan_id)
            .order_by(col(MembershipPlanPrice.valid_from))
        )
    )
    latest = _open_version(versions, body.valid_from)
    if latest is not None:
        latest.valid_to = body.valid_from
        session.add(latest)
    fee = MembershipPlanPrice(membership_plan_id=plan_id, created_at=now, **body.model_dump())
    session.add(fee)
    session.flush()
    audit(
        session,
        now,
        actor,
        "membership_plan.price",
        f"membership_plan:{plan_id}",
        **body.model_dump(mode="json"),
    )
    return fee
