"""Sites, resources and their availability."""

from __future__ import annotations

from flask import Blueprint
from sqlmodel import col, select

from ..db import get_session
from ..errors import RuleViolation
from ..models import Resource, ResourcePublic, Site, SitePublic
from ..rules.availability import free_intervals, free_intervals_many
from ..rules.booking import load_resource
from ..rules.intervals import Interval
from .context import now
from .openapi import operation
from .schemas import (
    Availability,
    CatalogueRangeQuery,
    FreeInterval,
    RangeQuery,
    ResourceQuery,
)

bp = Blueprint("catalogue", __name__, url_prefix="/api/v1")

MAX_RANGE_DAYS = 62


@operation(bp, "/sites", "GET", summary="List sites", response=list[SitePublic])
def list_sites() -> list[Site]:
    return list(get_session().exec(select(Site).order_by(col(Site.id))))


@operation(
    bp,
    "/resources",
    "GET",
    summary="List machines and rooms",
    query=ResourceQuery,
    response=list[ResourcePublic],
)
def list_resources(query: ResourceQuery) -> list[Resource]:
    statement = select(Resource).where(col(Resource.active).is_(True))
    if query.site:
        statement = statement.join(Site, Site.id == Resource.site_id).where(  # type: ignore[arg-type]
            Site.slug == query.site
        )
    if query.kind:
        statement = statement.where(Resource.kind == query.kind)
    return list(get_session().exec(statement.order_by(col(Resource.id))))


@operation(
    bp,
    "/resources/<int:resource_id>",
    "GET",
    summary="One machine or room",
    response=ResourcePublic,
    errors=(404,),
)
def get_resource(resource_id: int) -> Resource:
    return load_resource(session=get_session(), resource_id=resource_id)[0]


@operation(
    bp,
    "/resources/<int:resource_id>/availability",
    "GET",
    summary="Free intervals honouring hours, blackouts, buffers and bookings",
    query=RangeQuery,
    response=Availability,
    errors=(404,),
)
def availability(resource_id: int, query: RangeQuery) -> Availability:
    _check_range(query)
    session = get_session()
    resource, site = load_resource(session=session, resource_id=resource_id)
    free = free_intervals(
        session=session, resource=resource, site=site, start=query.from_, end=query.to, now=now()
    )
    return _availability(resource, site, query, free)


@operation(
    bp,
    "/availability",
    "GET",
    summary="Free intervals of every machine and room (of a site or kind) at once",
    query=CatalogueRangeQuery,
    response=list[Availability],
)
def availability_all(query: CatalogueRangeQuery) -> list[Availability]:
    _check_range(query)
    session = get_session()
    statement = (
        select(Resource, Site)
        .join(Site, col(Site.id) == col(Resource.site_id))
        .where(col(Resource.active).is_(True))
    )
    if query.site:
        statement = statement.where(Site.slug == query.site)
    if query.kind:
        statement = statement.where(Resource.kind == query.kind)
    pairs = list(session.exec(statement.order_by(col(Resource.id))).all())
    free = free_intervals_many(
        session=session, resources=pairs, start=query.from_, end=query.to, now=now()
    )
    return [_availability(r, s, query, free[r.id or 0]) for r, s in pairs]


def _check_range(query: RangeQuery) -> None:
    if query.to <= query.from_:
        raise RuleViolation("'to' must be after 'from'", code="invalid_range")
    if (query.to - query.from_).days > MAX_RANGE_DAYS:
        raise RuleViolation(f"ask for at most {MAX_RANGE_DAYS} days at once", code="range_too_long")


def _availability(
    resource: Resource, site: Site, query: RangeQuery, free: list[Interval]
) -> Availability:
    return Availability(
        resource_id=resource.id or 0,
        timezone=site.timezone,
        slot_minutes=resource.slot_minutes,
        start=query.from_,
        end=query.to,
        free=[FreeInterval(start=iv.start, end=iv.end) for iv in free],
    )
