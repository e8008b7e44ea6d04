"""Live status, telemetry history and dead letters, for operators and admins."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint
from pydantic import BaseModel, Field, field_validator
from sqlmodel import col, select

from telemetry.status import dead_letter_counts, list_dead_letters, live_status
from telemetry.store import StoreUnavailable

from ..db import get_session
from ..errors import DomainError, Forbidden, RuleViolation
from ..models import Alert, DeadLetter, ResourceKind, Site, UsageSession
from ..models.types import Id, Moment
from ..rules.booking import load_resource
from ..telemetry_store import get_store
from .context import current_principal, now
from .openapi import operation
from .schemas import Strict

bp = Blueprint("telemetry", __name__, url_prefix="/api/v1")

DEFAULT_SPAN = timedelta(hours=1)
MAX_RAW_SPAN = timedelta(days=1)
MAX_SPAN = timedelta(days=366)
MAX_BUCKETS = 10_000
_DURATION = re.compile(r"^(\d{1,9})(ms|s|m|h|d)$")
_UNITS = {"ms": "milliseconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class TelemetryUnavailable(DomainError):
    """The telemetry store is down: the client may try again later."""

    status = 503
    code = "telemetry_unavailable"


# -- shapes -------------------------------------------------------------------------------


class UsagePublic(BaseModel):
    id: int
    start: datetime
    reservation_id: int | None
    account_id: int | None
    walk_in: bool
    unauthorised: bool
    run_seconds: int
    energy_wh: float


class AlertPublic(BaseModel):
    id: int
    kind: str
    subject: str
    message: str
    opened_at: datetime


class ResourceStatus(BaseModel):
    resource_id: int
    site: str
    slug: str
    name: str
    kind: ResourceKind
    category: str
    device: str | None
    online: bool | None
    state: str | None
    state_since: datetime | None
    last_seen: datetime | None
    values: dict[str, Any]
    in_use: UsagePublic | None
    alerts: list[AlertPublic]


class TelemetryQuery(Strict):
    field: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,63}$")
    from_: Moment | None = Field(default=None, alias="from")
    to: Moment | None = None
    every: str | None = Field(default=None, description="bucket width, e.g. 30s, 5m, 1h, 1d")

    @field_validator("every")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            match = _DURATION.match(value)
            if match is None or int(match[1]) == 0:
                raise ValueError("a positive whole number with ms, s, m, h or d, e.g. 5m")
        return value

    def bucket(self) -> timedelta | None:
        if self.every is None:
            return None
        match = _DURATION.match(self.every)
        assert match is not None  # noqa: S101 - checked by the validator
        return timedelta(**{_UNITS[match[2]]: int(match[1])})


class TelemetrySample(BaseModel):
    ts: datetime
    value: float | str | None


class TelemetryHistory(BaseModel):
    resource_id: int
    site: str
    resource: str
    field: str
    start: datetime
    end: datetime
    every: str | None
    points: list[TelemetrySample]


class TelemetryLatest(BaseModel):
    resource_id: int
    site: str
    resource: str
    ts: datetime | None
    values: dict[str, Any]


class StatusQuery(Strict):
    site: str | None = Field(default=None, description="site slug")


class DeadLetterQuery(Strict):
    site: str | None = Field(default=None, description="site slug")
    reason: str | None = Field(default=None, max_length=64)
    before_id: Id | None = Field(default=None, description="page: letters older than this")
    limit: int = Field(default=100, ge=1, le=1000)


class DeadLetterPublic(BaseModel):
    id: int
    at: datetime
    topic: str
    site: str | None
    device: str | None
    reason: str
    size: int
    payload: str = Field(description="the first KiB, undecodable bytes as \\x escapes")


class DeadLetterCountPublic(BaseModel):
    source: str
    reason: str
    count: int
    first_at: datetime
    last_at: datetime


def _usage(usage: UsageSession | None) -> UsagePublic | None:
    if usage is None:
        return None
    return UsagePublic(
        id=usage.id or 0,
        start=usage.start_at,
        reservation_id=usage.reservation_id,
        account_id=usage.account_id,
        walk_in=usage.walk_in,
        unauthorised=usage.unauthorised,
        run_seconds=usage.run_seconds,
        energy_wh=round(usage.energy_wh, 3),
    )


def _alert(alert: Alert) -> AlertPublic:
    return AlertPublic(
        id=alert.id or 0,
        kind=alert.kind,
        subject=alert.subject,
        message=alert.message,
        opened_at=alert.opened_at,
    )


def _letter(letter: DeadLetter) -> DeadLetterPublic:
    text = letter.payload.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
    return DeadLetterPublic(
        id=letter.id or 0,
        at=letter.at,
        topic=letter.topic,
        site=letter.site,
        device=letter.device,
        reason=letter.reason,
        size=letter.size,
        payload=text,
    )


# -- who may look ---------------------------------------------------------------------------


def _visible_sites(site_slug: str | None) -> list[Site] | None:
    """The sites the caller operates (None: all, for an admin), narrowed to `site_slug`."""
    actor = current_principal()
    if not actor.is_staff:
        raise Forbidden("only operators and admins see live status")
    statement = select(Site).order_by(col(Site.id))
    if site_slug is not None:
        statement = statement.where(Site.slug == site_slug)
    sites = [s for s in get_session().exec(statement) if actor.operates(s.id or 0)]
    if site_slug is not None and not sites:
        raise Forbidden(f"you do not operate site {site_slug!r}")
    return None if actor.admin and site_slug is None else sites


# -- views --------------------------------------------------------------------------------


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
    site_ids = None if sites is None else [s.id or 0 for s in sites]
    answer = []
    for live in live_status(session=get_session(), site_ids=site_ids):
        device, resource = live.device, live.resource
        answer.append(
            ResourceStatus(
                resource_id=resource.id or 0,
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
                in_use=_usage(live.usage),
                alerts=[_alert(a) for a in live.alerts],
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
    resource, site = load_resource(session=get_session(), resource_id=resource_id)
    if not current_principal().operates(site.id or 0):
        raise Forbidden("only the site's operators and admins see telemetry")
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
    end = query.to or now()
    start = query.from_ or end - DEFAULT_SPAN
    every = query.bucket()
    _check_span(start, end, every)
    points = store.history(
        site=site.slug, resource=resource.slug, field=query.field, start=start, end=end, every=every
    )
    return TelemetryHistory(
        resource_id=resource_id,
        site=site.slug,
        resource=resource.slug,
        field=query.field,
        start=start,
        end=end,
        every=query.every,
        points=[TelemetrySample(ts=ts, value=value) for ts, value in points],
    )


def _check_span(start: datetime, end: datetime, every: timedelta | None) -> None:
    if end <= start:
        raise RuleViolation("'to' must be after 'from'", code="invalid_range")
    if end - start > MAX_SPAN:
        raise RuleViolation("ask for at most a year at once", code="range_too_long")
    if every is None and end - start > MAX_RAW_SPAN:
        raise RuleViolation(
            "raw values cover at most a day; ask for 'every' to downsample", code="range_too_long"
        )
    if every is not None and (end - start) / every > MAX_BUCKETS:
        raise RuleViolation(
            f"at most {MAX_BUCKETS} buckets; widen 'every'", code="too_many_buckets"
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
    return [_letter(letter) for letter in letters]


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
    return [
        DeadLetterCountPublic(
            source=c.source, reason=c.reason, count=c.count, first_at=c.first_at, last_at=c.last_at
        )
        for c in counts
    ]
