"""The demo data set gives every machine and room a device, once."""

from __future__ import annotations

from sqlmodel import Session, func, select

from service.demo_data import seed_demo
from service.models import Device, Resource


def test_every_demo_resource_has_one_device_named_after_it(session: Session):
    summary = seed_demo(session=session)
    resources = session.exec(select(Resource)).all()
    devices = {d.resource_id: d for d in session.exec(select(Device))}
    assert f"{len(resources)} devices" in summary
    assert set(devices) == {r.id for r in resources}
    assert all(
        devices[r.id].slug == r.slug and devices[r.id].site_id == r.site_id for r in resources
    )
    # Credentials are issued (and shown) by `smartfab devices rotate`, never by a seed.
    assert all(d.password_hash == "" for d in devices.values())
    seed_demo(session=session)
    assert session.exec(select(func.count()).select_from(Device)).one() == len(resources)
