"""Live status, telemetry history and dead letters, for operators and admins."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint

from telemetry.status import dead_letter_counts, list_dead_letters, live_status
from telemetry.store import HistoryQuery, StoreUnavailable

from ..db import get_session
from ..errors import DomainError, RuleViolation
from ..models import Resource, Site
from ..rules.catalogue import visible_sites, watched_resource
from ..telemetry_store import get_store
from .context import current_principal, now
from .openapi import operation
from .telemetry_shapes import (
    AlertPublic,
    DeadLetterCountPublic,
    DeadLetterPublic,
    DeadLetterQuery,
    ResourceStatus,
    StatusQuery,
    TelemetryHistory,
    TelemetryLatest,
    TelemetryQuery,
    TelemetrySample,
    UsagePublic,
)

bp = Blueprint("telemetry", __name__, url_prefix="/api/v1")


class TelemetryUnavailable(DomainError):
    """The telemetry store is down: the client may try again later."""

    status = 503
    code = "telemetry_unavailable"


def _visible_sites(site_slug: str | None) -> list[Site] | None:
    return visible_sites(session=get_session(), principal=current_principal(), site=site_slug)


@operation(
    bp,
    "/status",
    "GET",
    summary="Live state of every machine and room (operators)",
    query=StatusQuery,
    response=list[ResourceStatus],
    errors=(403,),
)
def status(query: StatusQuery) -> list[ResourceStatus]:
    sites = _visible_sites(query.site)
    site_ids = None if sites is None else [s.id for s in sites if s.id is not None]
    answer = []
    for live in live_status(session=get_session(), site_ids=site_ids):
        device, resource = live.device, live.resource
        answer.append(
            ResourceStatus(
                resource_id=resource.id,
                site=live.site.slug,
                slug=resource.slug,
                name=resource.name,
                kind=resource.kind,
                category=resource.category,
                device=device.slug if device else None,
                online=device.online if device else None,
                state=device.state if device else None,
                state_since=device.state_since if device else None,
                last_seen=device.last_seen if device else None,
                values=dict(device.last_values) if device else {},
                in_use=UsagePublic.model_validate(live.usage) if live.usage else None,
                alerts=[AlertPublic.model_validate(a) for a in live.alerts],
            )
        )
    return answer


@operation(
    bp,
    "/resources/<int:resource_id>/telemetry",
    "GET",
    summary="Telemetry of a machine or room: latest values, or one field's history",
    query=TelemetryQuery,
    response=TelemetryHistory | TelemetryLatest,
    errors=(403, 404, 503),
)
def telemetry(resource_id: int, query: TelemetryQuery) -> TelemetryHistory | TelemetryLatest:
    try:
        return _telemetry(resource_id, query)
    except StoreUnavailable as exc:
        raise TelemetryUnavailable("telemetry cannot be read now; try again later") from exc


def _telemetry(resource_id: int, query: TelemetryQuery) -> TelemetryHistory | TelemetryLatest:
    resource, site = watched_resource(
        session=get_session(), principal=current_principal(), resource_id=resource_id
    )
    store = get_store()
    if query.field is None:
        if query.from_ or query.to or query.every:
            raise RuleViolation("name a 'field' to read history", code="field_required")
        latest = store.latest(site=site.slug, resource=resource.slug)
        ts = latest.pop("ts", None)
        return TelemetryLatest(
            resource_id=resource_id,
            site=site.slug,
            resource=resource.slug,
            ts=ts if isinstance(ts, datetime) else None,
            values=latest,
        )
    return history(resource=resource, site=site, query=query, moment=now())


def history(
    *, resource: Resource, site: Site, query: TelemetryQuery, moment: datetime
) -> TelemetryHistory:
    """One field's history as `query` asks; the API and the staff's machine page share it.

    Raises StoreUnavailable when the telemetry store cannot be read.
    """
    if query.field is None:
        raise RuleViolation("name a 'field' to read history", code="field_required")
    start, end = query.span(moment)
    points = get_store().history(
        HistoryQuery(
            site=site.slug,
            resource=resource.slug,
            field=query.field,
            start=start,
            end=end,
            every=query.bucket(),
        )
    )
    return TelemetryHistory(
        resource_id=resource.id or 0,
        site=site.slug,
        resource=resource.slug,
        field=query.field,
        start=start,
        end=end,
        every=query.every,
        points=[TelemetrySample(ts=ts, value=value) for ts, value in points],
    )


@operation(
    bp,
    "/dead-letters",
    "GET",
    summary="Messages refused by the telemetry listener, newest first (operators)",
    query=DeadLetterQuery,
    response=list[DeadLetterPublic],
    errors=(403,),
)
def dead_letters(query: DeadLetterQuery) -> list[DeadLetterPublic]:
    sites = _visible_sites(query.site)
    letters = list_dead_letters(
        session=get_session(),
        site_slugs=None if sites is None else [s.slug for s in sites],
        reason=query.reason,
        before_id=query.before_id,
        limit=query.limit,
    )
    return [DeadLetterPublic.model_validate(letter) for letter in letters]


@operation(
    bp,
    "/dead-letters/counts",
    "GET",
    summary="How many messages each device sent that were refused, per reason (operators)",
    query=StatusQuery,
    response=list[DeadLetterCountPublic],
    errors=(403,),
)
def dead_letter_totals(query: StatusQuery) -> list[DeadLetterCountPublic]:
    sites = _visible_sites(query.site)
    counts = dead_letter_counts(
        session=get_session(), site_slugs=None if sites is None else [s.slug for s in sites]
    )
    return [DeadLetterCountPublic.model_validate(c) for c in counts]
