"""Rate plans, membership plans and memberships: staff read, admins write (audited)."""

from __future__ import annotations

from flask import Blueprint

from ..db import get_session
from ..errors import NotFound
from ..models import AccountMembership, MembershipPlan, MembershipPlanPrice, RatePlan, RatePlanPrice
from ..models.plan_shapes import (
    MembershipCreate,
    MembershipEnd,
    MembershipPlanCreate,
    MembershipPlanPublic,
    MembershipPriceCreate,
    MembershipPriceVersion,
    MembershipPublic,
    RatePlanCreate,
    RatePlanPublic,
    RatePriceCreate,
    RatePriceVersion,
)
from ..rules import admin_memberships, admin_plans
from .context import current_principal, now
from .openapi import operation

bp = Blueprint("plans", __name__, url_prefix="/api/v1")


def rate_plan_public(plan: RatePlan, versions: list[RatePlanPrice]) -> RatePlanPublic:
    """The plan with its first terms (valid until its first dated price) and every version."""
    first = RatePriceVersion(
        valid_from=None,
        valid_to=versions[0].valid_from if versions else None,
        price_per_hour=plan.price_per_hour,
        monthly_price=plan.monthly_price,
        no_show_percent=plan.no_show_percent,
        min_minutes=plan.min_minutes,
    )
    return RatePlanPublic(
        id=plan.id or 0,
        name=plan.name,
        basis=plan.basis,
        charge_unit=plan.charge_unit,
        prices=[
            first,
            *(RatePriceVersion.model_validate(v, from_attributes=True) for v in versions),
        ],
    )


def membership_plan_public(
    plan: MembershipPlan, versions: list[MembershipPlanPrice]
) -> MembershipPlanPublic:
    first = MembershipPriceVersion(
        valid_from=None,
        valid_to=versions[0].valid_from if versions else None,
        monthly_fee=plan.monthly_fee,
        discount_percent=plan.discount_percent,
    )
    return MembershipPlanPublic(
        id=plan.id or 0,
        name=plan.name,
        prices=[
            first,
            *(MembershipPriceVersion.model_validate(v, from_attributes=True) for v in versions),
        ],
    )


def membership_public(held: AccountMembership, plan: MembershipPlan) -> MembershipPublic:
    return MembershipPublic(
        id=held.id or 0,
        account_id=held.account_id,
        membership_plan_id=held.membership_plan_id,
        plan_name=plan.name,
        valid_from=held.valid_from,
        valid_to=held.valid_to,
    )


def _held(held: AccountMembership) -> MembershipPublic:
    plan = get_session().get(MembershipPlan, held.membership_plan_id)
    if plan is None:
        raise NotFound("no such membership plan")
    return membership_public(held, plan)


def _rate_plan(plan_id: int) -> RatePlanPublic:
    rows = admin_plans.rate_plans(session=get_session(), actor=current_principal())
    ((plan, versions),) = [row for row in rows if row[0].id == plan_id]
    return rate_plan_public(plan, versions)


def _membership_plan(plan_id: int) -> MembershipPlanPublic:
    rows = admin_plans.membership_plans(session=get_session(), actor=current_principal())
    ((plan, versions),) = [row for row in rows if row[0].id == plan_id]
    return membership_plan_public(plan, versions)


@operation(
    bp,
    "/rate-plans",
    "GET",
    summary="Rate plans with their dated prices",
    response=list[RatePlanPublic],
    errors=(403,),
)
def list_rate_plans() -> list[RatePlanPublic]:
    rows = admin_plans.rate_plans(session=get_session(), actor=current_principal())
    return [rate_plan_public(plan, versions) for plan, versions in rows]


@operation(
    bp,
    "/rate-plans",
    "POST",
    summary="Create a rate plan (its first terms)",
    body=RatePlanCreate,
    response=RatePlanPublic,
    status=201,
    errors=(403, 409),
)
def create_rate_plan(body: RatePlanCreate) -> RatePlanPublic:
    plan = admin_plans.create_rate_plan(
        session=get_session(), now=now(), actor=current_principal(), body=body
    )
    return rate_plan_public(plan, [])


@operation(
    bp,
    "/rate-plans/<int:plan_id>/prices",
    "POST",
    summary="Change a plan's price from a day on (a new version; history is kept)",
    body=RatePriceCreate,
    response=RatePlanPublic,
    status=201,
    errors=(403, 404, 409),
)
def add_rate_price(plan_id: int, body: RatePriceCreate) -> RatePlanPublic:
    admin_plans.add_rate_price(
        session=get_session(), now=now(), actor=current_principal(), plan_id=plan_id, body=body
    )
    return _rate_plan(plan_id)


@operation(
    bp,
    "/membership-plans",
    "GET",
    summary="Membership plans with their dated fees",
    response=list[MembershipPlanPublic],
    errors=(403,),
)
def list_membership_plans() -> list[MembershipPlanPublic]:
    rows = admin_plans.membership_plans(session=get_session(), actor=current_principal())
    return [membership_plan_public(plan, versions) for plan, versions in rows]


@operation(
    bp,
    "/membership-plans",
    "POST",
    summary="Create a membership plan (its first fee and discount)",
    body=MembershipPlanCreate,
    response=MembershipPlanPublic,
    status=201,
    errors=(403, 409),
)
def create_membership_plan(body: MembershipPlanCreate) -> MembershipPlanPublic:
    plan = admin_plans.create_membership_plan(
        session=get_session(), now=now(), actor=current_principal(), body=body
    )
    return membership_plan_public(plan, [])


@operation(
    bp,
    "/membership-plans/<int:plan_id>/prices",
    "POST",
    summary="Change a membership plan's fee or discount from a day on",
    body=MembershipPriceCreate,
    response=MembershipPlanPublic,
    status=201,
    errors=(403, 404, 409),
)
def add_membership_price(plan_id: int, body: MembershipPriceCreate) -> MembershipPlanPublic:
    admin_plans.add_membership_price(
        session=get_session(), now=now(), actor=current_principal(), plan_id=plan_id, body=body
    )
    return _membership_plan(plan_id)


@operation(
    bp,
    "/accounts/<int:account_id>/memberships",
    "GET",
    summary="An account's memberships, by first day",
    response=list[MembershipPublic],
    errors=(403, 404),
)
def list_memberships(account_id: int) -> list[MembershipPublic]:
    rows = admin_memberships.memberships(
        session=get_session(), actor=current_principal(), account_id=account_id
    )
    return [membership_public(held, plan) for held, plan in rows]


@operation(
    bp,
    "/accounts/<int:account_id>/memberships",
    "POST",
    summary="Give an account a membership from a day on",
    body=MembershipCreate,
    response=MembershipPublic,
    status=201,
    errors=(403, 404, 409),
)
def add_membership(account_id: int, body: MembershipCreate) -> MembershipPublic:
    session = get_session()
    held = admin_memberships.add_membership(
        session=session, now=now(), actor=current_principal(), account_id=account_id, body=body
    )
    return _held(held)


@operation(
    bp,
    "/accounts/<int:account_id>/memberships/<int:membership_id>/end",
    "POST",
    summary="Set the first day a membership no longer applies",
    body=MembershipEnd,
    response=MembershipPublic,
    errors=(403, 404, 409),
)
def end_membership(account_id: int, membership_id: int, body: MembershipEnd) -> MembershipPublic:
    session = get_session()
    held = admin_memberships.end_membership(
        session=session,
        now=now(),
        actor=current_principal(),
        account_id=account_id,
        membership_id=membership_id,
        body=body,
    )
    return _held(held)
