"""Devices of machines and rooms: registration, alerts, ending usage, going offline.

The telemetry listener and the scheduler share these; neither repeats them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..models import Alert, AlertKind, Device, Resource, Site, UsageSession

log = logging.getLogger(__name__)


def ensure_devices(*, session: Session, site: Site) -> list[Device]:
    """Give every active resource of `site` a device named after it; returns those created."""
    have = set(session.exec(select(Device.resource_id).where(Device.site_id == site.id)).all())
    slugs = set(session.exec(select(Device.slug).where(Device.site_id == site.id)).all())
    created = []
    resources = session.exec(
        select(Resource)
        .where(Resource.site_id == site.id, col(Resource.active).is_(True))
        .order_by(col(Resource.id))
    ).all()
    for resource in resources:
        if resource.id in have or resource.slug in slugs:
            continue
        device = Device(site_id=site.id or 0, resource_id=resource.id, slug=resource.slug)
        session.add(device)
        created.append(device)
    session.flush()
    return created


def subject_of(site_slug: str, device_slug: str) -> str:
    return f"{site_slug}/{device_slug}"[:160]


def new_alert(
    *,
    now: datetime,
    kind: AlertKind,
    subject: str,
    message: str,
    site_id: int | None = None,
    resource_id: int | None = None,
    device_id: int | None = None,
) -> Alert:
    """An alert opened now, not yet stored (open_alert or open_alerts store it)."""
    return Alert(
        site_id=site_id,
        resource_id=resource_id,
        device_id=device_id,
        kind=kind,
        subject=subject,
        message=message[:500],
        opened_at=now,
    )


def open_alert(*, session: Session, now: datetime, **fields: Any) -> Alert:
    """The open alert of this kind about this subject (`fields` as for new_alert), raised now
    if there is none."""
    return _store_alert(session, new_alert(now=now, **fields))


def _store_alert(session: Session, alert: Alert) -> Alert:
    found = session.exec(
        select(Alert).where(
            Alert.kind == alert.kind, Alert.subject == alert.subject, col(Alert.closed_at).is_(None)
        )
    ).first()
    if found is not None:
        return found
    # Two listeners may raise the same alert at once; the partial unique index keeps one.
    try:
        with session.begin_nested():
            session.add(alert)
    except IntegrityError:
        return _store_alert(session, make_transient_copy(alert))
    log.warning("alert %s: %s: %s", alert.kind, alert.subject, alert.message)
    return alert


def open_alerts(*, session: Session, alerts: Sequence[Alert]) -> None:
    """Store alerts the caller knows are not open yet (or were opened and closed since),
    in one flush. If another process opened one of them meanwhile, store them one by
    one, keeping the alert already open."""
    if not alerts:
        return
    try:
        with session.begin_nested():
            session.add_all(alerts)
    except IntegrityError:
        for alert in alerts:
            if alert.closed_at is None:
                _store_alert(session, make_transient_copy(alert))
            else:
                session.add(make_transient_copy(alert))
        return
    for alert in alerts:
        log.warning("alert %s: %s: %s", alert.kind, alert.subject, alert.message)


def make_transient_copy(alert: Alert) -> Alert:
    """A fresh Alert with the same values (one rolled back with a savepoint is spent)."""
    return Alert(**{name: getattr(alert, name) for name in Alert.model_fields if name != "id"})


def close_alert(*, session: Session, now: datetime, kind: AlertKind, subject: str) -> bool:
    """Close the open alert of this kind about `subject`; whether there was one."""
    result = session.execute(
        update(Alert)
        .where(
            col(Alert.kind) == kind,
            col(Alert.subject) == subject,
            col(Alert.closed_at).is_(None),
        )
        .values(closed_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def end_usage(*, usage: UsageSession, at: datetime, ended_by: str) -> None:
    """Close a usage session at `at` (never before its start)."""
    at = max(at, usage.start_at)
    usage.end_at = at
    usage.ended_by = ended_by
    usage.run_seconds = int((at - usage.start_at).total_seconds())


def open_usage(*, session: Session, device_id: int) -> UsageSession | None:
    return session.exec(
        select(UsageSession).where(
            UsageSession.device_id == device_id, col(UsageSession.end_at).is_(None)
        )
    ).first()


def mark_stale_offline(*, session: Session, now: datetime, after_s: int) -> int:
    """Mark offline every online device silent for `after_s` seconds; how many it marked.

    Each device is claimed with a conditional UPDATE, so two schedulers never both
    raise its alert; its open usage session ends at the last sample seen.
    """
    cutoff = now - timedelta(seconds=after_s)
    stale = session.exec(
        select(Device, Site.slug)
        .join(Site, col(Site.id) == Device.site_id)
        .where(col(Device.online).is_(True), col(Device.last_seen) < cutoff)
        .order_by(col(Device.id))
    ).all()
    marked = 0
    for device, site_slug in stale:
        claimed = session.execute(
            update(Device)
            .where(
                col(Device.id) == device.id,
                col(Device.online).is_(True),
                col(Device.last_seen) < cutoff,
            )
            .values(online=False)
            .execution_options(synchronize_session=False)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            continue
        marked += 1
        session.refresh(device)
        silent = int((now - (device.last_seen or cutoff)).total_seconds())
        open_alert(
            session=session,
            now=now,
            kind=AlertKind.offline,
            subject=subject_of(site_slug, device.slug),
            message=f"no message for {silent} s",
            site_id=device.site_id,
            resource_id=device.resource_id,
            device_id=device.id,
        )
        usage = open_usage(session=session, device_id=device.id or 0)
        if usage is not None:
            end_usage(usage=usage, at=usage.last_sample_at, ended_by="stale")
    return marked
