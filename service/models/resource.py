"""Bookable machines and rooms, and their rates."""

from __future__ import annotations

import secrets
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class ResourceKind(StrEnum):
    machine = "machine"
    room = "room"


class ResourceBase(SQLModel):
    site_id: int = Field(foreign_key="site.id", index=True)
    kind: ResourceKind
    slug: str = Field(max_length=64)
    name: str = Field(max_length=200)
    name_en: str = Field(default="", max_length=200)
    # The machine type a training certifies for, e.g. "laser_cutter".
    category: str = Field(default="", max_length=64)
    slot_minutes: int = Field(default=30, ge=5, le=1440)
    min_minutes: int = Field(default=30, ge=5)
    max_minutes: int = Field(default=240, ge=5)
    buffer_minutes: int = Field(default=0, ge=0, le=240)
    lead_minutes: int = Field(default=0, ge=0)
    max_days_ahead: int = Field(default=30, ge=1, le=730)
    requires_training: bool = False
    requires_approval: bool = False
    walk_in_allowed: bool = False
    capacity: int = Field(default=1, ge=1)
    # Integer won, VAT included.
    rate_per_hour: int = Field(default=0, ge=0)
    active: bool = True


class Resource(ResourceBase, table=True):
    __table_args__ = (UniqueConstraint("site_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    # None: charged at `rate_per_hour`, machines by run time and rooms by booked time.
    rate_plan_id: int | None = Field(default=None, foreign_key="rate_plan.id")
    ical_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(24), index=True)
    # Opens the display on a tablet beside the resource (no login): staff can reset it.
    display_secret: str = Field(
        default_factory=lambda: secrets.token_urlsafe(18), max_length=64, unique=True
    )


class ResourcePublic(ResourceBase):
    id: int
