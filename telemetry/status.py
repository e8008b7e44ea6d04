"""Live status of machines and rooms, and the dead letters, as operators read them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import or_
from sqlmodel import Session, col, select

from service.models import (
    Alert,
    DeadLetter,
    DeadLetterCount,
    Device,
    Resource,
    Site,
    UsageSession,
)
from service.rules.alerts import open_by_resource


@dataclass(frozen=True)
class LiveStatus:
    """One machine or room: its device's latest word, its running session, open alerts."""

    resource: Resource
    site: Site
    device: Device | None
    usage: UsageSession | None
    alerts: list[Alert] = field(default_factory=list)


def live_status(
    *,
    session: Session,
    site_ids: Collection[int] | None,
    resource_ids: Collection[int] | None = None,
) -> list[LiveStatus]:
    """Every active resource of the given sites (None: all sites), in site and id order.

    With `resource_ids`, only those resources (a live floor redrawing what changed).
    """
    statement = (
        select(Resource, Site)
        .join(Site, col(Site.id) == Resource.site_id)
        .where(col(Resource.active).is_(True))
        .order_by(col(Site.id), col(Resource.id))
    )
    if site_ids is not None:
        statement = statement.where(col(Resource.site_id).in_(site_ids))
    if resource_ids is not None:
        statement = statement.where(col(Resource.id).in_(resource_ids))
    rows = session.exec(statement).all()
    ids = [r.id for r, _ in rows]
    devices = {
        d.resource_id: d
        for d in session.exec(
            select(Device).where(col(Device.resource_id).in_(ids)).order_by(col(Device.id))
        )
    }
    usages = {
        u.resource_id: u
        for u in session.exec(
            select(UsageSession).where(
                col(UsageSession.resource_id).in_(ids), col(UsageSession.end_at).is_(None)
            )
        )
    }
    alerts = open_by_resource(session=session, resource_ids=[i for i in ids if i])
    return [
        LiveStatus(
            resource=resource,
            site=site,
            device=devices.get(resource.id),
            usage=usages.get(resource.id or 0),
            alerts=alerts.get(resource.id or 0, []),
        )
        for resource, site in rows
    ]


def list_dead_letters(
    *,
    session: Session,
    site_slugs: Collection[str] | None,
    reason: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[DeadLetter]:
    """Newest first; `site_slugs` None means every letter, also those of no known site."""
    statement = select(DeadLetter).order_by(col(DeadLetter.id).desc()).limit(limit)
    if site_slugs is not None:
        statement = statement.where(col(DeadLetter.site).in_(site_slugs))
    if reason:
        statement = statement.where(DeadLetter.reason == reason)
    if before_id is not None:
        statement = statement.where(col(DeadLetter.id) < before_id)
    return list(session.exec(statement))


def dead_letter_counts(
    *, session: Session, site_slugs: Collection[str] | None
) -> list[DeadLetterCount]:
    """Counters per source and reason, largest first."""
    statement = select(DeadLetterCount).order_by(
        col(DeadLetterCount.count).desc(), col(DeadLetterCount.source)
    )
    if site_slugs is not None:
        prefixes = [
            col(DeadLetterCount.source).startswith(f"{slug}/", autoescape=True)
            for slug in site_slugs
        ]
        if not prefixes:
            return []
        statement = statement.where(or_(*prefixes))
    return list(session.exec(statement))


def dead_letter_reasons(
    *, session: Session, site_slugs: Collection[str] | None
) -> list[tuple[str, int]]:
    """How many letters were refused for each reason, most first (the counters, summed)."""
    totals: dict[str, int] = {}
    for counted in dead_letter_counts(session=session, site_slugs=site_slugs):
        totals[counted.reason] = totals.get(counted.reason, 0) + counted.count
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))
