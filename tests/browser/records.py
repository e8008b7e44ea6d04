"""Alerts and dead letters for the browser tests (the demo data holds none)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from devices.contract import topic_for
from service.models import Alert, AlertKind, Device, Resource, Site
from service.rules.devices import new_alert
from service.rules.unknown_devices import note_unknown_devices
from telemetry.deadletters import dead_letters


def add_alert_records(engine: Engine) -> int:
    """An open offline alert of the Seongsu laser, unregistered devices at Seongsu and a
    refused message carrying markup; the alert's id. Adds nothing the second time."""
    now = datetime.now(UTC)
    with Session(engine, expire_on_commit=False) as session:
        site = session.exec(select(Site).where(Site.slug == "seongsu")).one()
        laser = session.exec(
            select(Resource).where(Resource.site_id == site.id, Resource.slug == "laser-1")
        ).one()
        subject = f"seongsu/{laser.slug}"
        found = session.exec(
            select(Alert).where(Alert.subject == subject, col(Alert.closed_at).is_(None))
        ).first()
        if found is not None:
            return found.id or 0
        device = session.exec(select(Device).where(Device.resource_id == laser.id)).first()
        alert = new_alert(
            now=now - timedelta(minutes=12),
            kind=AlertKind.offline,
            subject=subject,
            message=f"{subject} went offline",
            site_id=site.id,
            resource_id=laser.id,
            device_id=device.id if device else None,
        )
        session.add(alert)
        note_unknown_devices(
            session=session, now=now, seen={("seongsu", "ghost-7"): 3, ("seongsu", "cam-x"): 1}
        )
        dead_letters(
            session=session,
            now=now,
            letters=[
                (
                    topic_for("smartfab", "seongsu", "laser-1", "telemetry"),
                    "not_json",
                    b"<script>alert('x')</script>",
                ),
                (
                    topic_for("smartfab", "seongsu", "laser-1", "telemetry"),
                    "bad_type",
                    b'{"power_w": "high"}',
                ),
            ],
        )
        session.commit()
        return alert.id or 0
