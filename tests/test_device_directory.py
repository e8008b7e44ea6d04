"""The listener's cache of which resource each device speaks for."""

from __future__ import annotations

import time

from sqlalchemy import Engine
from sqlmodel import Session, select

from service.models import Device
from service.rules.devices import ensure_devices
from telemetry.directory import DeviceDirectory
from tests.factories import World


def test_a_device_moved_to_another_resource_is_tagged_anew_after_the_refresh(
    engine: Engine, session: Session, world: World
) -> None:
    ensure_devices(session=session, site=world.sites["seongsu"])
    session.commit()
    directory = DeviceDirectory(engine, refresh_s=0.2)
    assert directory[("seongsu", "laser-1")].resource == "laser-1"
    device = session.exec(select(Device).where(Device.slug == "laser-1")).one()
    device.resource_id = world.id("cnc")
    session.add(device)
    session.commit()
    time.sleep(0.3)
    assert directory[("seongsu", "laser-1")].resource == "cnc-1"


def test_a_device_registered_after_the_load_is_found_at_its_first_message(
    engine: Engine, session: Session, world: World
) -> None:
    directory = DeviceDirectory(engine, refresh_s=3600)
    assert ("seongsu", "laser-1") not in directory
    ensure_devices(session=session, site=world.sites["seongsu"])
    session.commit()
    assert directory[("seongsu", "cnc-1")].resource == "cnc-1"


def test_an_unregistered_device_is_missing_until_it_is_registered(
    engine: Engine, session: Session, world: World
) -> None:
    directory = DeviceDirectory(engine, refresh_s=0.2)
    assert directory.get(("seongsu", "laser-1")) is None
    ensure_devices(session=session, site=world.sites["seongsu"])
    session.commit()
    time.sleep(0.3)
    assert directory.get(("seongsu", "laser-1")) is not None


def test_a_flood_of_made_up_names_reloads_the_directory_only_a_few_times(
    engine: Engine, session: Session, world: World
) -> None:
    class Counting(DeviceDirectory):
        loads = 0

        def reload(self) -> None:
            self.loads += 1
            super().reload()

    directory = Counting(engine, refresh_s=3600, miss_s=60, miss_burst=5)
    for i in range(5_000):
        assert directory.get(("seongsu", f"ghost-{i}")) is None
    assert directory.loads == 1 + 5  # the first load, then the burst for new names
