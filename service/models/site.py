"""Sites, their opening hours and blackouts."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Field, SQLModel

from .types import UTCDateTime


class SiteBase(SQLModel):
    slug: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=200)
    name_en: str = Field(default="", max_length=200)
    timezone: str = Field(default="Asia/Seoul", max_length=64)
    address: str = Field(default="", max_length=300)
    # Weekly hours a maker may hold per resource kind; 0 means no limit.
    machine_quota_hours: int = Field(default=0, ge=0)
    room_quota_hours: int = Field(default=0, ge=0)


class Site(SiteBase, table=True):
    id: int | None = Field(default=None, primary_key=True)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class SitePublic(SiteBase):
    id: int


class OpeningHours(SQLModel, table=True):
    """One opening interval of a site on a weekday (0 = Monday), in local time."""

    __tablename__ = "opening_hours"

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    weekday: int = Field(ge=0, le=6)
    opens: time
    closes: time


class BlackoutBase(SQLModel):
    site_id: int = Field(foreign_key="site.id", index=True)
    # None: the whole site is closed (holiday); else only this resource (maintenance).
    resource_id: int | None = Field(default=None, foreign_key="resource.id", index=True)
    start_at: datetime = Field(sa_type=UTCDateTime)
    end_at: datetime = Field(sa_type=UTCDateTime)
    reason: str = Field(default="", max_length=300)


class Blackout(BlackoutBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
