"""Administering devices: which controller or sensor reports for which resource.

An operator registers and binds the devices of the sites they operate; admins any. A
device is bound only to a resource of its own site. Every change is audited; the device's
secret (its MQTT password) never is.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from ..errors import Conflict, NotFound, RuleViolation
from ..models import Device, Resource, Site
from ..models.admin import DeviceCreate, DeviceUpdate
from .accounts import Principal
from .admin_accounts import require_staff
from .admin_catalogue import audit_change, flush_unique, require_site


def managed_devices(
    *, session: Session, actor: Principal
) -> list[tuple[Device, Site, Resource | None]]:
    require_staff(actor)
    rows = session.exec(
        select(Device, Site, Resource)
        .join(Site, col(Site.id) == col(Device.site_id))
        .outerjoin(Resource, col(Resource.id) == col(Device.resource_id))
        .order_by(col(Site.id), col(Device.slug))
    ).all()
    return [(d, s, r) for d, s, r in rows if actor.operates(d.site_id)]


def load_device_for(*, session: Session, actor: Principal, device_id: int) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(f"no device {device_id}")
    require_site(actor, device.site_id)
    return device


def _check_binding(session: Session, site_id: int, resource_id: int | None) -> None:
    if resource_id is None:
        return
    resource = session.get(Resource, resource_id)
    if resource is None or resource.site_id != site_id:
        raise RuleViolation(
            "the resource must be at the device's site",
            code="resource_elsewhere",
            details={"field": "resource_id"},
        )


def create_device(
    *, session: Session, now: datetime, actor: Principal, body: DeviceCreate
) -> Device:
    require_site(actor, body.site_id)
    _check_binding(session, body.site_id, body.resource_id)
    taken = select(Device.id).where(Device.site_id == body.site_id, Device.slug == body.slug)
    if session.exec(taken).first() is not None:
        raise Conflict(f"the site has a device {body.slug!r}", code="slug_taken")
    device = Device(site_id=body.site_id, slug=body.slug, resource_id=body.resource_id)
    session.add(device)
    flush_unique(session, f"the site has a device {body.slug!r}")
    # The secret is the device's MQTT password: it stays out of the log.
    audit_change(
        session,
        now,
        actor,
        "device.created",
        f"device:{device.id}",
        site_id=body.site_id,
        slug=body.slug,
        resource_id=body.resource_id,
    )
    return device


def update_device(
    *, session: Session, now: datetime, actor: Principal, device_id: int, body: DeviceUpdate
) -> Device:
    device = load_device_for(session=session, actor=actor, device_id=device_id)
    _check_binding(session, device.site_id, body.resource_id)
    before = device.resource_id
    device.resource_id = body.resource_id
    session.add(device)
    session.flush()
    audit_change(
        session,
        now,
        actor,
        "device.updated",
        f"device:{device.id}",
        resource_id=[before, body.resource_id],
    )
    return device
