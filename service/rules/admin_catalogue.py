"""Administering the catalogue: sites with their hours and holidays, and resources.

Admins change everything; an operator changes the resources of the sites they operate,
and no site itself. Every change is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from ..errors import Conflict, Forbidden, NotFound, RuleViolation
from ..models import Blackout, OpeningHours, Resource, Site
from ..models.admin import (
    HolidayCreate,
    ResourceCreate,
    ResourceUpdate,
    SiteCreate,
    SiteUpdate,
)
from .accounts import Principal
from .admin_accounts import require_staff
from .audit import record
from .resource_pricing import PRICED, change, requested, require_plan, start


def _require_admin(actor: Principal) -> None:
    if not actor.admin:
        raise Forbidden("only admins change sites")


def require_site(actor: Principal, site_id: int) -> None:
    require_staff(actor)
    if not actor.operates(site_id):
        raise Forbidden("you do not operate this site")


def flush_unique(session: Session, message: str) -> None:
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(message, code="slug_taken") from None


def audit_change(
    session: Session, now: datetime, actor: Principal, action: str, subject: str, **detail: Any
) -> None:
    record(session=session, now=now, actor_id=actor.id, action=action, subject=subject, **detail)


# -- sites -------------------------------------------------------------------------------


def managed_sites(*, session: Session, actor: Principal) -> list[Site]:
    """The sites `actor` administers: all for admins, their own for operators."""
    require_staff(actor)
    sites = session.exec(select(Site).order_by(col(Site.id))).all()
    return [s for s in sites if s.id is not None and actor.operates(s.id)]


def site_hours(*, session: Session, site_id: int) -> list[OpeningHours]:
    return list(
        session.exec(
            select(OpeningHours)
            .where(OpeningHours.site_id == site_id)
            .order_by(col(OpeningHours.weekday), col(OpeningHours.opens))
        )
    )


def site_holidays(*, session: Session, site_id: int) -> list[Blackout]:
    """The site-wide closures (holidays), by start."""
    return list(
        session.exec(
            select(Blackout)
            .where(Blackout.site_id == site_id, col(Blackout.resource_id).is_(None))
            .order_by(col(Blackout.start_at))
        )
    )


def load_site_for(*, session: Session, actor: Principal, site_id: int) -> Site:
    _require_admin(actor)
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound(f"no site {site_id}")
    return site


def create_site(*, session: Session, now: datetime, actor: Principal, body: SiteCreate) -> Site:
    _require_admin(actor)
    if session.exec(select(Site.id).where(Site.slug == body.slug)).first() is not None:
        raise Conflict(f"a site {body.slug!r} exists", code="slug_taken")
    values = body.model_dump(exclude={"hours"}, exclude_none=True)
    site = Site(**values)
    session.add(site)
    flush_unique(session, f"a site {body.slug!r} exists")
    _set_hours(session, site, body)
    audit_change(
        session, now, actor, "site.created", f"site:{site.id}", **body.model_dump(mode="json")
    )
    return site


def update_site(
    *, session: Session, now: datetime, actor: Principal, site_id: int, body: SiteUpdate
) -> Site:
    site = load_site_for(session=session, actor=actor, site_id=site_id)
    for name, value in body.model_dump(exclude={"hours"}, exclude_none=True).items():
        setattr(site, name, value)
    session.add(site)
    _set_hours(session, site, body)
    audit_change(
        session,
        now,
        actor,
        "site.updated",
        f"site:{site.id}",
        **body.model_dump(mode="json", exclude_unset=True),
    )
    return site


def _set_hours(session: Session, site: Site, body: SiteUpdate) -> None:
    if body.hours is None:
        return
    session.exec(delete(OpeningHours).where(col(OpeningHours.site_id) == site.id))
    for hours in body.hours:
        session.add(OpeningHours(site_id=site.id or 0, **hours.model_dump()))
    session.flush()


def add_holiday(
    *, session: Session, now: datetime, actor: Principal, site_id: int, body: HolidayCreate
) -> Blackout:
    site = load_site_for(session=session, actor=actor, site_id=site_id)
    holiday = Blackout(
        site_id=site.id or 0, start_at=body.start, end_at=body.end, reason=body.reason
    )
    session.add(holiday)
    session.flush()
    audit_change(
        session,
        now,
        actor,
        "site.holiday_added",
        f"site:{site.id}",
        blackout_id=holiday.id,
        **body.model_dump(mode="json"),
    )
    return holiday


def remove_holiday(
    *, session: Session, now: datetime, actor: Principal, site_id: int, blackout_id: int
) -> None:
    site = load_site_for(session=session, actor=actor, site_id=site_id)
    holiday = session.get(Blackout, blackout_id)
    if holiday is None or holiday.site_id != site.id or holiday.resource_id is not None:
        raise NotFound(f"no holiday {blackout_id} at this site")
    session.delete(holiday)
    session.flush()
    audit_change(
        session, now, actor, "site.holiday_removed", f"site:{site.id}", blackout_id=blackout_id
    )


# -- resources ---------------------------------------------------------------------------


def managed_resources(
    *, session: Session, actor: Principal, site_id: int | None = None
) -> list[tuple[Resource, Site]]:
    """Every resource (active or not) of the sites `actor` administers, by site and name."""
    require_staff(actor)
    statement = select(Resource, Site).join(Site, col(Site.id) == col(Resource.site_id))
    if site_id is not None:
        statement = statement.where(Resource.site_id == site_id)
    rows = session.exec(statement.order_by(col(Site.id), col(Resource.name))).all()
    return [(r, s) for r, s in rows if actor.operates(r.site_id)]


def load_resource_for(*, session: Session, actor: Principal, resource_id: int) -> Resource:
    resource = session.get(Resource, resource_id)
    if resource is None:
        raise NotFound(f"no resource {resource_id}")
    require_site(actor, resource.site_id)
    return resource


def _check_durations(resource: Resource) -> None:
    if resource.min_minutes > resource.max_minutes:
        raise RuleViolation(
            "the shortest booking cannot be longer than the longest",
            code="min_over_max",
            details={"field": "min_minutes"},
        )


def create_resource(
    *, session: Session, now: datetime, actor: Principal, body: ResourceCreate
) -> Resource:
    require_site(actor, body.site_id)
    if session.get(Site, body.site_id) is None:
        raise RuleViolation(f"no site {body.site_id}", code="unknown_site")
    taken = select(Resource.id).where(Resource.site_id == body.site_id, Resource.slug == body.slug)
    if session.exec(taken).first() is not None:
        raise Conflict(f"the site has a resource {body.slug!r}", code="slug_taken")
    require_plan(session=session, plan_id=body.rate_plan_id)
    resource = Resource(**body.model_dump(exclude_none=True, exclude={"price_from"}))
    _check_durations(resource)
    session.add(resource)
    flush_unique(session, f"the site has a resource {body.slug!r}")
    start(session=session, now=now, resource=resource)
    audit_change(
        session,
        now,
        actor,
        "resource.created",
        f"resource:{resource.id}",
        **body.model_dump(mode="json", exclude_none=True),
    )
    return resource


def update_resource(
    *, session: Session, now: datetime, actor: Principal, resource_id: int, body: ResourceUpdate
) -> Resource:
    load_resource_for(session=session, actor=actor, resource_id=resource_id)
    # The row lock orders two admins changing one resource's price at once.
    locked = select(Resource).where(Resource.id == resource_id).with_for_update()
    resource = session.exec(locked).one()
    wanted = requested(body)
    changes = body.model_dump(exclude_none=True, exclude={*PRICED, "price_from"})
    before = {name: getattr(resource, name) for name in (*changes, *wanted)}
    version = change(
        session=session,
        now=now,
        actor=actor,
        resource=resource,
        wanted=wanted,
        valid_from=body.price_from,
    )
    for name, value in changes.items():
        setattr(resource, name, value)
    _check_durations(resource)
    session.add(resource)
    session.flush()
    changed = {k: [v, getattr(resource, k)] for k, v in before.items() if v != getattr(resource, k)}
    if version is not None:
        changed["price_from"] = [None, version.valid_from.isoformat()]
    audit_change(
        session, now, actor, "resource.updated", f"resource:{resource.id}", changed=changed
    )
    return resource
