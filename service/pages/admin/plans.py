"""Prices and memberships: rate plans and membership plans with their dated prices, and who
holds which membership when. Staff read the page; only admins see and send its forms.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel
from sqlmodel import Session

from ...api.context import now
from ...db import get_session
from ...errors import DomainError
from ...models import ChargeUnit, RateBasis
from ...models.plan_shapes import (
    MembershipCreate,
    MembershipEnd,
    MembershipPlanCreate,
    MembershipPriceCreate,
    RatePlanCreate,
    RatePriceCreate,
)
from ...rules import admin_accounts, admin_memberships, admin_plans
from ..auth import admin_required, staff_required
from ..render import render_page
from .base import Page, bp
from .forms import admin_refusal, form_values, validate

BASES = {
    RateBasis.run_time: _l("Run time"),
    RateBasis.booked_time: _l("Booked time"),
    RateBasis.monthly: _l("Monthly"),
}
UNITS = {ChargeUnit.reservation: _l("Per reservation"), ChargeUnit.run: _l("Per run")}
REFUSALS = {
    "billed_period": _l("That day falls in a month already invoiced: choose a later day."),
    "not_after_latest_price": _l("A new price starts after the latest one."),
    "name_taken": _l("A plan of this name exists."),
    "membership_overlaps": _l("The person already holds this membership then."),
    "empty_membership": _l("The end must be after the start."),
}

# form name -> (shape, fields left empty that mean None, choices)
FORMS: dict[str, tuple[type[BaseModel], tuple[str, ...], tuple[str, ...]]] = {
    "rate_plan": (RatePlanCreate, (), ("basis", "charge_unit")),
    "rate_price": (RatePriceCreate, (), ()),
    "membership_plan": (MembershipPlanCreate, (), ()),
    "membership_price": (MembershipPriceCreate, (), ()),
    "membership": (MembershipCreate, ("valid_to",), ("membership_plan_id",)),
}


def _page(form: str = "", values: dict[str, Any] | None = None, errors: Any = None) -> Page:
    db = get_session()
    actor = g.principal
    people = admin_accounts.list_people(session=db, actor=actor) if actor.admin else []
    rate_plans = admin_plans.rate_plans(session=db, actor=actor)
    membership_plans = admin_plans.membership_plans(session=db, actor=actor)
    page = render_page(
        "admin/plans.html",
        rate_plans=rate_plans,
        membership_plans=membership_plans,
        memberships=admin_memberships.all_memberships(session=db, actor=actor),
        bases=BASES,
        units=UNITS,
        can_change=actor.admin,
        account_options=[(p.account.id, f"{p.account.name} ({p.account.email})") for p in people],
        rate_plan_options=[(p.id, p.name) for p, _ in rate_plans],
        membership_plan_options=[(p.id, p.name) for p, _ in membership_plans],
        open_form=form,
        values=values or {},
        errors=errors or {},
    )
    return (page, 422) if errors else page


def _refusal(exc: DomainError) -> str:
    return str(REFUSALS[exc.code]) if exc.code in REFUSALS else admin_refusal(exc)


def _send(
    form: str, change: Callable[[Session, Any, dict[str, Any]], object], done: str, **extra: Any
) -> Page:
    """Read `form` by its API shape, apply `change`, and redirect (or show what was refused)."""
    shape, optional, choices = FORMS[form]
    values = form_values(optional=optional, choices=choices)
    target = {k: v for k, v in values.items() if k not in extra}
    body, errors = validate(shape, target)
    if body is not None:
        db = get_session()
        try:
            change(db, body, extra)
        except DomainError as exc:
            db.rollback()
            errors = {"": _refusal(exc)}
        else:
            db.commit()
            flash(done)
            return redirect(url_for("admin.plans") + f"#{form.replace('_', '-')}")
    return _page(form, values, errors)


def _plan_id(values: dict[str, Any]) -> int:
    try:
        return int(values.get("plan_id") or 0)
    except ValueError:
        abort(404)


@bp.get("/plans")
@staff_required
def plans() -> Page:
    return _page()


@bp.post("/plans/rate-plans")
@admin_required
def new_rate_plan() -> Page:
    return _send(
        "rate_plan",
        lambda db, body, _x: admin_plans.create_rate_plan(
            session=db, now=now(), actor=g.principal, body=body
        ),
        _("The rate plan has been added."),
    )


@bp.post("/plans/rate-prices")
@admin_required
def new_rate_price() -> Page:
    plan_id = _plan_id(form_values())
    return _send(
        "rate_price",
        lambda db, body, _x: admin_plans.add_rate_price(
            session=db, now=now(), actor=g.principal, plan_id=plan_id, body=body
        ),
        _("The new price has been saved; the former one ends the day before."),
        plan_id=plan_id,
    )


@bp.post("/plans/membership-plans")
@admin_required
def new_membership_plan() -> Page:
    return _send(
        "membership_plan",
        lambda db, body, _x: admin_plans.create_membership_plan(
            session=db, now=now(), actor=g.principal, body=body
        ),
        _("The membership plan has been added."),
    )


@bp.post("/plans/membership-prices")
@admin_required
def new_membership_price() -> Page:
    plan_id = _plan_id(form_values())
    return _send(
        "membership_price",
        lambda db, body, _x: admin_plans.add_membership_price(
            session=db, now=now(), actor=g.principal, plan_id=plan_id, body=body
        ),
        _("The new fee has been saved; the former one ends the day before."),
        plan_id=plan_id,
    )


@bp.post("/plans/memberships")
@admin_required
def new_membership() -> Page:
    values = form_values()
    try:
        account_id = int(values.get("account_id") or 0)
    except ValueError:
        abort(404)
    return _send(
        "membership",
        lambda db, body, _x: admin_memberships.add_membership(
            session=db, now=now(), actor=g.principal, account_id=account_id, body=body
        ),
        _("The membership has been given."),
        account_id=account_id,
    )


@bp.post("/plans/memberships/<int:account_id>/<int:membership_id>/end")
@admin_required
def end_membership(account_id: int, membership_id: int) -> Page:
    values = form_values()
    body, errors = validate(MembershipEnd, values)
    if body is None:
        return _page("end", values, errors)
    db = get_session()
    try:
        admin_memberships.end_membership(
            session=db,
            now=now(),
            actor=g.principal,
            account_id=account_id,
            membership_id=membership_id,
            body=body,
        )
    except DomainError as exc:
        db.rollback()
        return _page("end", values, {"": _refusal(exc)})
    db.commit()
    flash(_("The membership's end has been set."))
    return redirect(url_for("admin.plans") + "#memberships")
