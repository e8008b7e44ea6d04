"""Administering devices: which controller or sensor reports for which resource.

An operator registers and binds the devices of the sites they operate; admins any. A
device is bound only to a resource of its own site. Each device has its own MQTT password,
shown once when issued (at registration, or on rotation) and kept only as a hash; revoking
takes it away. Every change is audited; a password never is.

`actor=None` is the server's console (`smartfab devices …`): whoever can read the
server's configuration may administer every device; it is audited without an account.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlmodel import Session, col, select

from ..errors import Conflict, NotFound, RuleViolation
from ..models import Device, Resource, Site
from ..models.admin import DeviceCreate, DeviceUpdate
from .accounts import Principal
from .admin_accounts import require_staff
from .admin_catalogue import flush_unique, require_site
from .audit import record
from .device_credentials import hash_password, mqtt_username, new_password


class Issued(NamedTuple):
    """A device with the password just issued to it: shown once, then only its hash is kept."""

    device: Device
    password: str


def _require_site(actor: Principal | None, site_id: int) -> None:
    if actor is not None:
        require_site(actor, site_id)


def _audit(
    session: Session, now: datetime, actor: Principal | None, action: str, device: Device, **detail
) -> None:
    actor_id = None if actor is None else actor.id
    if actor is None:
        detail["via"] = "console"
    record(
        session=session,
        now=now,
        actor_id=actor_id,
        action=action,
        subject=f"device:{device.id}",
        **detail,
    )


def managed_devices(
    *, session: Session, actor: Principal | None
) -> list[tuple[Device, Site, Resource | None]]:
    if actor is not None:
        require_staff(actor)
    rows = session.exec(
        select(Device, Site, Resource)
        .join(Site, col(Site.id) == col(Device.site_id))
        .outerjoin(Resource, col(Resource.id) == col(Device.resource_id))
        .order_by(col(Site.id), col(Device.slug))
    ).all()
    return [(d, s, r) for d, s, r in rows if actor is None or actor.operates(d.site_id)]


def load_device_for(*, session: Session, actor: Principal | None, device_id: int) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(f"no device {device_id}")
    _require_site(actor, device.site_id)
    return device


def username_of(*, session: Session, device: Device) -> str:
    """The device's MQTT user name, `{site}.{device}`."""
    site = session.get(Site, device.site_id)
    assert site is not None  # noqa: S101 - a foreign key
    return mqtt_username(site.slug, device.slug)


def find_device(*, session: Session, site_slug: str, slug: str) -> Device:
    """The device `slug` of the site `site_slug` (how the console names devices)."""
    device = session.exec(
        select(Device)
        .join(Site, col(Site.id) == col(Device.site_id))
        .where(Site.slug == site_slug, Device.slug == slug)
    ).first()
    if device is None:
        raise NotFound(f"no device {slug!r} at site {site_slug!r}")
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
    *, session: Session, now: datetime, actor: Principal | None, body: DeviceCreate
) -> Issued:
    """Register a device with a fresh MQTT password (returned once, stored as a hash)."""
    _require_site(actor, body.site_id)
    _check_binding(session, body.site_id, body.resource_id)
    taken = select(Device.id).where(Device.site_id == body.site_id, Device.slug == body.slug)
    if session.exec(taken).first() is not None:
        raise Conflict(f"the site has a device {body.slug!r}", code="slug_taken")
    password = new_password()
    device = Device(
        site_id=body.site_id,
        slug=body.slug,
        resource_id=body.resource_id,
        password_hash=hash_password(password),
    )
    session.add(device)
    flush_unique(session, f"the site has a device {body.slug!r}")
    _audit(
        session,
        now,
        actor,
        "device.created",
        device,
        site_id=body.site_id,
        slug=body.slug,
        resource_id=body.resource_id,
    )
    return Issued(device, password)


def rotate_device(
    *, session: Session, now: datetime, actor: Principal | None, device_id: int
) -> Issued:
    """Give the device a new MQTT password; the old one stops working once the broker's
    configuration is regenerated. A revoked device is reinstated with it."""
    device = load_device_for(session=session, actor=actor, device_id=device_id)
    password = new_password()
    reinstated = device.revoked_at is not None
    device.password_hash = hash_password(password)
    device.revoked_at = None
    session.add(device)
    session.flush()
    _audit(session, now, actor, "device.rotated", device, reinstated=reinstated)
    return Issued(device, password)


def revoke_device(
    *, session: Session, now: datetime, actor: Principal | None, device_id: int
) -> Device:
    """Take the device's credentials away (it drops out of the broker's password file and
    ACL); revoking a revoked device changes nothing."""
    device = load_device_for(session=session, actor=actor, device_id=device_id)
    if device.revoked_at is not None:
        return device
    device.revoked_at = now
    device.password_hash = ""
    session.add(device)
    session.flush()
    _audit(session, now, actor, "device.revoked", device)
    return device


def update_device(
    *, session: Session, now: datetime, actor: Principal | None, device_id: int, body: DeviceUpdate
) -> Device:
    device = load_device_for(session=session, actor=actor, device_id=device_id)
    _check_binding(session, device.site_id, body.resource_id)
    before = device.resource_id
    device.resource_id = body.resource_id
    session.add(device)
    session.flush()
    _audit(session, now, actor, "device.updated", device, resource_id=[before, body.resource_id])
    return device
