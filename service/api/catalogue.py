"""Sites, resources and their availability."""

from __future__ import annotations

from flask import Blueprint

from ..db import get_session
from ..models import Resource, ResourcePublic, Site, SitePublic
from ..rules import catalogue
from ..rules.availability import free_intervals, free_intervals_many
from ..rules.intervals import Interval
from .context import current_principal, now
from .openapi import operation
from .schemas import (
    Availability,
    CatalogueRangeQuery,
    FreeInterval,
    RangeQuery,
    ResourceQuery,
)

bp = Blueprint("catalogue", __name__, url_prefix="/api/v1")


@operation(bp, "/sites", "GET", summary="List sites", response=list[SitePublic])
def list_sites() -> list[Site]:
    return catalogue.list_sites(session=get_session())


@operation(
    bp,
    "/resources",
    "GET",
    summary="List machines and rooms",
    query=ResourceQuery,
    response=list[ResourcePublic],
)
def list_resources(query: ResourceQuery) -> list[Resource]:
    return catalogue.list_resources(session=get_session(), site=query.site, kind=query.kind)


@operation(
    bp,
    "/resources/<int:resource_id>",
    "GET",
    summary="One machine or room",
    response=ResourcePublic,
    errors=(404,),
)
def get_resource(resource_id: int) -> Resource:
    return catalogue.load_resource(session=get_session(), resource_id=resource_id)[0]


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
    session = get_session()
    resource, site = catalogue.load_resource(session=session, resource_id=resource_id)
    free = free_intervals(
        session=session,
        resource=resource,
        site=site,
        start=query.from_,
        end=query.to,
        now=now(),
        account_id=current_principal().id,
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
    session = get_session()
    pairs = catalogue.resources_with_sites(session=session, site=query.site, kind=query.kind)
    free = free_intervals_many(
        session=session,
        resources=pairs,
        start=query.from_,
        end=query.to,
        now=now(),
        account_id=current_principal().id,
    )
    return [_availability(r, s, query, free[r.id]) for r, s in pairs if r.id is not None]


def _availability(
    resource: Resource, site: Site, query: RangeQuery, free: list[Interval]
) -> Availability:
    return Availability(
        resource_id=resource.id,
        timezone=site.timezone,
        slot_minutes=resource.slot_minutes,
        start=query.from_,
        end=query.to,
        free=[FreeInterval(start=iv.start, end=iv.end) for iv in free],
    )
