"""A site's local time as people read it: clock times, and the slot grid of a resource."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ..models import Resource, Site


def local_clock(moment: datetime, site: Site) -> str:
    """`moment` as HH:MM on the site's clocks."""
    return moment.astimezone(site.zone).strftime("%H:%M")


@dataclass(frozen=True, slots=True)
class SlotGrid:
    """A resource's slot boundaries: every `slot_minutes` from midnight on the site's clocks.

    Built once per resource, then asked about as many moments as needed.
    """

    zone: ZoneInfo
    step_s: int

    @classmethod
    def of(cls, resource: Resource, site: Site) -> SlotGrid:
        return cls(site.zone, resource.slot_minutes * 60)

    def offset(self, moment: datetime) -> timedelta:
        """How far `moment` lies past the last boundary (zero on a boundary)."""
        local = moment.astimezone(self.zone)
        # Wall-clock time of day (as a person reads the grid), not time elapsed since midnight.
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        return timedelta(seconds=seconds % self.step_s, microseconds=local.microsecond)

    def floor(self, moment: datetime) -> datetime:
        """The last boundary at or before `moment`."""
        return moment - self.offset(moment)

    def ceil(self, moment: datetime) -> datetime:
        """The first boundary at or after `moment`."""
        past = self.offset(moment)
        return moment + (timedelta(seconds=self.step_s) - past if past else timedelta(0))
