"""The simulator's fleet from the database: a site's registered devices and known cards."""

from __future__ import annotations

from sqlmodel import Session, col, select

from devices.simulator import DeviceSpec
from service.models import Account, Device, Resource, Site


def fleet_specs(*, session: Session, site: str, limit: int | None = None) -> list[DeviceSpec]:
    """The devices registered at `site` (slug), as the simulator should play them."""
    rows = session.exec(
        select(Device, Resource)
        .join(Site, col(Site.id) == Device.site_id)
        .join(Resource, col(Resource.id) == Device.resource_id)
        .where(Site.slug == site, col(Resource.active).is_(True))
        .order_by(col(Device.id))
    ).all()
    specs = [
        DeviceSpec(site, device.slug, str(resource.kind), resource.category, resource.capacity)
        for device, resource in rows
    ]
    return specs[:limit] if limit is not None else specs


def card_pool(*, session: Session) -> list[str]:
    """Card uids of active accounts, so simulated badge taps name real people."""
    cards = session.exec(
        select(Account.card_uid)
        .where(col(Account.card_uid).is_not(None), col(Account.active).is_(True))
        .order_by(col(Account.id))
    ).all()
    return [card for card in cards if card]
