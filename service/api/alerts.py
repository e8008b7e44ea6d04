"""Alerts for operators and admins: listing by site, kind and state; acknowledge, resolve."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from pydantic import Field

from ..db import get_session
from ..models import AlertKind
from ..models.types import Id, Moment
from ..rules import alerts
from ..rules.alerts import NOTE_MAX, AlertRow, AlertState
from .context import current_principal, now
from .openapi import operation
from .schemas import Strict

bp = Blueprint("alerts", __name__, url_prefix="/api/v1")


class AlertQuery(Strict):
    site: str | None = Field(default=None, description="site slug")
    kind: AlertKind | None = None
    state: AlertState | None = None
    since: Moment | None = Field(default=None, description="only alerts opened then or later")
    before_id: Id | None = Field(default=None, description="page: alerts older than this")
    limit: int = Field(default=alerts.DEFAULT_LIMIT, ge=1, le=1000)


class AlertNote(Strict):
    note: str = Field(default="", max_length=NOTE_MAX)


class AlertDetail(Strict):
    id: int
    kind: AlertKind
    state: AlertState
    subject: str
    message: str
    site: str | None
    resource_id: int | None
    resource: str | None
    device_id: int | None
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: int | None
    ack_note: str
    closed_at: datetime | None
    closed_by: int | None
    close_note: str
    count: int = Field(description="messages a grouped alert stands for (else 1)")
    last_at: datetime | None = Field(description="when a grouped alert was last seen")
    recent: list[str] = Field(description="the last few names a grouped alert saw")

    @classmethod
    def of(cls, row: AlertRow) -> AlertDetail:
        a = row.alert
        return cls(
            id=a.id or 0,
            kind=a.kind,
            state=AlertState.open if a.closed_at is None else AlertState.closed,
            subject=a.subject,
            message=a.message,
            site=row.site.slug if row.site else None,
            resource_id=a.resource_id,
            resource=row.resource.slug if row.resource else None,
            device_id=a.device_id,
            opened_at=a.opened_at,
            acknowledged_at=a.acknowledged_at,
            acknowledged_by=a.acknowledged_by,
            ack_note=a.ack_note,
            closed_at=a.closed_at,
            closed_by=a.closed_by,
            close_note=a.close_note,
            count=a.count,
            last_at=a.last_at,
            recent=list(a.recent),
        )


@operation(
    bp,
    "/alerts",
    "GET",
    summary="Alerts by site, kind and state, newest first (operators: their sites)",
    query=AlertQuery,
    response=list[AlertDetail],
    errors=(403,),
)
def list_alerts(query: AlertQuery) -> list[AlertDetail]:
    rows = alerts.list_alerts(
        session=get_session(),
        principal=current_principal(),
        site=query.site,
        kind=query.kind,
        state=query.state,
        since=query.since,
        before_id=query.before_id,
        limit=query.limit,
    )
    return [AlertDetail.of(row) for row in rows]


@operation(
    bp,
    "/alerts/<int:alert_id>/ack",
    "POST",
    summary="Acknowledge an open alert, with a note",
    body=AlertNote,
    response=AlertDetail,
    errors=(403, 404, 409),
)
def acknowledge(alert_id: int, body: AlertNote) -> AlertDetail:
    row = alerts.acknowledge(
        session=get_session(),
        now=now(),
        principal=current_principal(),
        alert_id=alert_id,
        note=body.note,
    )
    return AlertDetail.of(row)


@operation(
    bp,
    "/alerts/<int:alert_id>/resolve",
    "POST",
    summary="Resolve (close) an open alert, with a note; 409 if it is closed already",
    body=AlertNote,
    response=AlertDetail,
    errors=(403, 404, 409),
)
def resolve(alert_id: int, body: AlertNote) -> AlertDetail:
    row = alerts.resolve(
        session=get_session(),
        now=now(),
        principal=current_principal(),
        alert_id=alert_id,
        note=body.note,
    )
    return AlertDetail.of(row)
