"""Reading usage sessions (what a machine really ran), as billing and makers see them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from ..errors import Forbidden
from ..models import Resource, Site, UsageSession
from .accounts import Principal


def list_usage(
    *,
    session: Session,
    actor: Principal,
    account_id: int | None,
    start: datetime | None,
    end: datetime | None,
    limit: int = 1000,
) -> list[UsageSession]:
    """Sessions overlapping [start, end): a maker's own, an operator's sites', or all."""
    query = select(UsageSession).join(Resource, col(Resource.id) == col(UsageSession.resource_id))
    if not actor.admin:
        if account_id not in (None, actor.id) and not actor.operator_sites:
            raise Forbidden("a maker sees only their own usage")
        mine = col(UsageSession.account_id) == actor.id
        query = query.where(
            or_(mine, col(Resource.site_id).in_(actor.operator_sites))
            if actor.operator_sites
            else mine
        )
    if account_id is not None:
        query = query.where(UsageSession.account_id == account_id)
    if start is not None:
        query = query.where(
            or_(col(UsageSession.end_at).is_(None), col(UsageSession.end_at) > start)
        )
    if end is not None:
        query = query.where(UsageSession.start_at < end)
    return list(session.exec(query.order_by(col(UsageSession.start_at)).limit(limit)))


def usage_with_places(
    *,
    session: Session,
    actor: Principal,
    account_id: int | None,
    start: datetime | None,
    end: datetime | None,
) -> list[tuple[UsageSession, Resource, Site]]:
    """`list_usage`, each session with its machine and center (retired machines included)."""
    runs = list_usage(session=session, actor=actor, account_id=account_id, start=start, end=end)
    ids = {run.resource_id for run in runs}
    places = {
        resource.id: (resource, site)
        for resource, site in session.exec(
            select(Resource, Site)
            .join(Site, col(Site.id) == col(Resource.site_id))
            .where(col(Resource.id).in_(ids))
        )
    }
    return [(run, *places[run.resource_id]) for run in runs]
