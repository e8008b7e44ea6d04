"""Which resource a device speaks for: the tags its points are stored under."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from devices.contract import Event, Message, Status, Telemetry
from service.models import Device, Resource, Site

from .store import FieldValue, Point


class DeviceTags(NamedTuple):
    device_id: int
    site: str
    resource: str
    kind: str


def device_tags(*, session: Session) -> dict[tuple[str, str], DeviceTags]:
    """Every registered device by (site slug, device slug)."""
    rows = session.execute(
        select(
            col(Device.id), col(Device.slug), col(Site.slug), col(Resource.slug), col(Resource.kind)
        )
        .join(Site, col(Site.id) == Device.site_id)
        .outerjoin(Resource, col(Resource.id) == Device.resource_id)
    ).all()
    return {
        (site, slug): DeviceTags(device_id or 0, site, resource or slug, str(kind or "device"))
        for device_id, slug, site, resource, kind in rows
    }


class DeviceDirectory(Mapping[tuple[str, str], DeviceTags]):
    """device_tags() cached for `refresh_s` seconds, hit or miss, so a device moved to
    another resource is tagged anew within that time. A device missing from the cache
    reloads it, at once the first time it is missed since the last load, then at most
    every `miss_s` seconds: a device registered a moment ago is found, and an
    unregistered one (`apply` dead-letters its messages as unknown_device) costs a few
    reloads a second, not one per message. Names never seen before reload at once only
    `miss_burst` times per `miss_s`, so a flood of made-up names costs no more."""

    def __init__(
        self, engine: Engine, refresh_s: float = 5.0, miss_s: float = 0.2, miss_burst: int = 5
    ) -> None:
        self._engine = engine
        self._refresh_s = refresh_s
        self._miss_s = miss_s
        self._miss_burst = miss_burst
        self._lock = threading.Lock()
        self._tags: dict[tuple[str, str], DeviceTags] = {}
        self._absent: set[tuple[str, str]] = set()
        self._loaded = float("-inf")
        self._window, self._new_misses = float("-inf"), 0
        self.reload()

    def reload(self) -> None:
        with Session(self._engine) as session:
            tags = device_tags(session=session)
        with self._lock:
            self._tags, self._absent, self._loaded = tags, set(), time.monotonic()

    def __getitem__(self, key: tuple[str, str]) -> DeviceTags:
        age = time.monotonic() - self._loaded
        if age >= self._refresh_s:
            self.reload()
            age = 0.0
        found = self._tags.get(key)
        if found is None and (age >= self._miss_s or self._first_miss(key)):
            self.reload()
            found = self._tags.get(key)
        if found is None:
            with self._lock:
                self._absent.add(key)
            raise KeyError(key)
        return found

    def _first_miss(self, key: tuple[str, str]) -> bool:
        """Whether `key` is missed for the first time since the last load, within the
        burst of such reloads allowed per `miss_s`."""
        if key in self._absent:
            return False
        with self._lock:
            moment = time.monotonic()
            if moment - self._window >= self._miss_s:
                self._window, self._new_misses = moment, 0
            self._new_misses += 1
            return self._new_misses <= self._miss_burst

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(dict(self._tags))

    def __len__(self) -> int:
        return len(self._tags)


def fields_of(message: Message) -> dict[str, FieldValue]:
    """The time-series fields a message carries (none for badge taps and acks)."""
    if isinstance(message, Telemetry):
        fields: dict[str, FieldValue] = dict(message.metrics)
        if message.state is not None:
            fields["state"] = message.state
        return fields
    if isinstance(message, Status):
        return {"online": message.online}
    if isinstance(message, Event) and message.type == "door":
        return {"door_open": bool(message.data["open"])}
    if isinstance(message, Event) and message.type == "job":
        return {"job_phase": str(message.data["phase"])}
    return {}


def points_for(
    messages: Sequence[Message], devices: Mapping[tuple[str, str], DeviceTags]
) -> list[Point]:
    """Points for the messages of registered devices; `apply` records the others."""
    points = []
    for message in messages:
        tags = devices.get((message.site, message.device))
        if tags is None:
            continue
        fields = fields_of(message)
        if fields:
            points.append(Point(tags.site, tags.resource, tags.kind, message.ts, fields))
    return points
