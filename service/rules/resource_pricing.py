"""A resource's plan and hourly rate in time: a change is a new version, never an edit.

A version (`resource_pricing`, models/prices.py) is valid for days of the site's zone,
`valid_from` included and `valid_to` excluded. Changing the rate or the plan of a
resource opens a version from a given day (default: the day after `now` in the site's
zone) and closes the open one there; a day in a month already invoiced is refused
(409 `billed_period`, as for plan prices). The resource's own `rate_plan_id` and
`rate_per_hour` mirror the latest version; billing reads the versions (price_book.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from ..errors import RuleViolation
from ..models import RatePlan, Resource, ResourcePricing, Site
from ..models.admin import ResourceUpdate
from .accounts import Principal
from .admin_plans import refuse_billed
from .audit import record
from .price_book import resource_pricing_of

PRICED = ("rate_plan_id", "rate_per_hour")


def requested(body: ResourceUpdate) -> dict[str, int | None]:
    """The pricing fields `body` sets: a null plan moves the resource off its plan."""
    wanted: dict[str, int | None] = {}
    if "rate_plan_id" in body.model_fields_set:
        wanted["rate_plan_id"] = body.rate_plan_id
    if body.rate_per_hour is not None:
        wanted["rate_per_hour"] = body.rate_per_hour
    return wanted


def versions_of(*, session: Session, resource_id: int) -> list[ResourcePricing]:
    statement = (
        select(ResourcePricing)
        .where(ResourcePricing.resource_id == resource_id)
        .order_by(col(ResourcePricing.valid_from))
    )
    return list(session.exec(statement))


def history(*, session: Session, resource: Resource) -> list[ResourcePricing]:
    """A resource's versions in order; one from its columns when it has none yet."""
    return versions_of(session=session, resource_id=resource.id or 0) or [
        resource_pricing_of(resource)
    ]


def require_plan(*, session: Session, plan_id: int | None) -> None:
    if plan_id is not None and session.get(RatePlan, plan_id) is None:
        raise RuleViolation(
            f"no rate plan {plan_id}", code="unknown_rate_plan", details={"field": "rate_plan_id"}
        )


def start(*, session: Session, now: datetime, resource: Resource) -> None:
    """A new resource's first version, open since 2000-01-01."""
    require_plan(session=session, plan_id=resource.rate_plan_id)
    first = resource_pricing_of(resource)
    first.created_at = now
    session.add(first)
    session.flush()


def change(
    *,
    session: Session,
    now: datetime,
    actor: Principal,
    resource: Resource,
    wanted: dict[str, int | None],
    valid_from: date | None = None,
) -> ResourcePricing | None:
    """Open a version with `wanted` from `valid_from`; None when nothing changes."""
    versions = versions_of(session=session, resource_id=resource.id or 0)
    latest = versions[-1] if versions else resource_pricing_of(resource)
    plan_id = wanted.get("rate_plan_id", latest.rate_plan_id)
    per_hour = wanted.get("rate_per_hour", latest.rate_per_hour)
    if (plan_id, per_hour) == (latest.rate_plan_id, latest.rate_per_hour):
        return None
    require_plan(session=session, plan_id=plan_id)
    if valid_from is None:
        site = session.get(Site, resource.site_id)
        zone = site.zone if site is not None else None
        valid_from = now.astimezone(zone).date() + timedelta(days=1)
    refuse_billed(session=session, day=valid_from)
    if valid_from <= latest.valid_from:
        raise RuleViolation(
            f"a new price starts after the latest one ({latest.valid_from.isoformat()})",
            code="not_after_latest_price",
            details={"field": "price_from"},
        )
    if versions:
        latest.valid_to = valid_from
        session.add(latest)
    else:  # a resource saved before versions: its columns until now
        latest.valid_to = valid_from
        latest.created_at = now
        session.add(latest)
    version = ResourcePricing(
        resource_id=resource.id or 0,
        valid_from=valid_from,
        rate_plan_id=plan_id,
        rate_per_hour=per_hour or 0,
        created_at=now,
    )
    session.add(version)
    resource.rate_plan_id, resource.rate_per_hour = plan_id, per_hour or 0
    session.add(resource)
    session.flush()
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="resource.price",
        subject=f"resource:{resource.id}",
        valid_from=valid_from.isoformat(),
        rate_plan_id=plan_id,
        rate_per_hour=per_hour,
        before=[latest.rate_plan_id, latest.rate_per_hour],
    )
    return version
