"""The simulator's fleet from the database: a site's registered devices and known cards."""

from __future__ import annotations

from sqlmodel import Session, col, select

from devices.simulator import DeviceSpec
from service.models import Account, Device, Resource, Site


def fleet_specs(
    *, session: Session, site: str | None, limit: int | None = None
) -> list[DeviceSpec]:
    """The devices registered at `site` (slug; None: every site), as the simulator plays them."""
    statement = (
        select(Device, Resource, Site.slug)
        .join(Site, col(Site.id) == Device.site_id)
        .join(Resource, col(Resource.id) == Device.resource_id)
        .where(col(Resource.active).is_(True))
        .order_by(col(Device.id))
    )
    if site is not None:
        statement = statement.where(Site.slug == site)
    specs = [
        DeviceSpec(slug, device.slug, str(resource.kind), resource.category, resource.capacity)
        for device, resource, slug in session.exec(statement).all()
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
