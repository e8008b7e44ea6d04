"""Alerts as operators handle them: who sees which, acknowledging, resolving, counting.

Raising and clearing alerts is in devices.py (the listener and the scheduler share it);
unregistered devices are grouped per site in unknown_devices.py.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from ..errors import Conflict, NotFound, RuleViolation
from ..models import Alert, AlertKind, Resource, Site
from .accounts import Principal
from .audit import record
from .catalogue import visible_sites

NOTE_MAX = 500
DEFAULT_LIMIT = 100


class AlertState(StrEnum):
    open = "open"
    closed = "closed"


@dataclass(frozen=True)
class AlertRow:
    """An alert with the site and resource it is about, when it has them."""

    alert: Alert
    site: Site | None
    resource: Resource | None


def list_alerts(
    *,
    session: Session,
    principal: Principal,
    site: str | None = None,
    kind: AlertKind | None = None,
    state: AlertState | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[AlertRow]:
    """The alerts `principal` may see, newest first; `since` keeps those opened then or later.

    Operators see their sites' alerts, admins every alert (also those of no known site);
    makers, or an operator naming another site, are Forbidden.
    """
    sites = visible_sites(session=session, principal=principal, site=site)
    statement = (
        select(Alert, Site, Resource)
        .outerjoin(Site, col(Site.id) == col(Alert.site_id))
        .outerjoin(Resource, col(Resource.id) == col(Alert.resource_id))
        .order_by(col(Alert.opened_at).desc(), col(Alert.id).desc())
        .limit(limit)
    )
    if sites is not None:
        statement = statement.where(col(Alert.site_id).in_([s.id for s in sites]))
    if kind is not None:
        statement = statement.where(Alert.kind == kind)
    if state is AlertState.open:
        statement = statement.where(col(Alert.closed_at).is_(None))
    elif state is AlertState.closed:
        statement = statement.where(col(Alert.closed_at).is_not(None))
    if since is not None:
        statement = statement.where(col(Alert.opened_at) >= since)
    if before_id is not None:
        statement = statement.where(col(Alert.id) < before_id)
    return [AlertRow(a, s, r) for a, s, r in session.exec(statement).all()]


def count_open(*, session: Session, principal: Principal | None) -> int:
    """How many open alerts `principal` would see (0 for anyone not staff); one query."""
    if principal is None or not principal.is_staff:
        return 0
    statement = select(func.count()).select_from(Alert).where(col(Alert.closed_at).is_(None))
    if not principal.admin:
        statement = statement.where(col(Alert.site_id).in_(sorted(principal.operator_sites)))
    return int(session.exec(statement).one())


def open_by_resource(*, session: Session, resource_ids: Collection[int]) -> dict[int, list[Alert]]:
    """The open alerts of each of these resources, oldest first (the live status shows them)."""
    found: dict[int, list[Alert]] = {}
    for alert in session.exec(
        select(Alert)
        .where(col(Alert.resource_id).in_(list(resource_ids)), col(Alert.closed_at).is_(None))
        .order_by(col(Alert.opened_at), col(Alert.id))
    ):
        found.setdefault(alert.resource_id or 0, []).append(alert)
    return found


def _visible_alert(
    session: Session, principal: Principal, alert_id: int, *, lock: bool = False
) -> Alert:
    """The alert, if `principal` may handle it; NotFound otherwise (no hint that it exists)."""
    statement = select(Alert).where(Alert.id == alert_id)
    if lock:
        statement = statement.with_for_update()
    alert = session.exec(statement).first()
    if alert is None or not principal.is_staff:
        raise NotFound(f"no alert {alert_id}")
    if not principal.admin and (
        alert.site_id is None or alert.site_id not in principal.operator_sites
    ):
        raise NotFound(f"no alert {alert_id}")
    return alert


def _with_places(session: Session, alert: Alert) -> AlertRow:
    site = session.get(Site, alert.site_id) if alert.site_id is not None else None
    resource = session.get(Resource, alert.resource_id) if alert.resource_id is not None else None
    return AlertRow(alert, site, resource)


def _note(note: str) -> str:
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise RuleViolation(f"a note has at most {NOTE_MAX} characters", code="note_too_long")
    return note


def acknowledge(
    *, session: Session, now: datetime, principal: Principal, alert_id: int, note: str = ""
) -> AlertRow:
    """Say that someone is looking at an open alert (again, with a new note if need be)."""
    return _handle(
        session,
        now,
        principal,
        alert_id,
        note,
        "alert.acknowledge",
        acknowledged_at=now,
        acknowledged_by=principal.id,
        ack_note=note.strip(),
    )


def resolve(
    *, session: Session, now: datetime, principal: Principal, alert_id: int, note: str = ""
) -> AlertRow:
    """Close an open alert by hand; Conflict if it is closed already."""
    return _handle(
        session,
        now,
        principal,
        alert_id,
        note,
        "alert.resolve",
        closed_at=now,
        closed_by=principal.id,
        close_note=note.strip(),
    )


def _handle(
    session: Session,
    now: datetime,
    principal: Principal,
    alert_id: int,
    note: str,
    action: str,
    **changes: Any,
) -> AlertRow:
    """Change an open alert the principal may see, and audit it with the note."""
    note = _note(note)
    alert = _visible_alert(session, principal, alert_id, lock=True)
    if alert.closed_at is not None:
        raise Conflict("the alert is already resolved", code="alert_closed")
    for name, value in changes.items():
        setattr(alert, name, value)
    session.add(alert)
    session.flush()
    record(
        session=session,
        now=now,
        actor_id=principal.id,
        action=action,
        subject=f"alert:{alert.id}",
        note=note,
    )
    return _with_places(session, alert)
