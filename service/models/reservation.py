"""Reservations of a resource by an account."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

from .types import Id, Moment, UTCDateTime


class ReservationStatus(StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    active = "active"
    completed = "completed"
    no_show = "no_show"
    cancelled = "cancelled"


# The sets of states the rules speak of; every rule names one of these.
# Hold the resource: the exclusion constraint covers exactly these.
BLOCKING = (ReservationStatus.pending, ReservationStatus.confirmed, ReservationStatus.active)
# Entitle the holder to use the resource (a pending booking gets no machine).
ENTITLING = (ReservationStatus.confirmed, ReservationStatus.active)
# Keep their time taken: blocking, or used. A completed booking still holds its buffer
# (cleaning, cooling) and counts towards the weekly quota; a no-show or cancellation does not.
OCCUPYING = (*BLOCKING, ReservationStatus.completed)
# Over one way or another: nothing more is due on the machine for them.
FINISHED = (ReservationStatus.completed, ReservationStatus.no_show, ReservationStatus.cancelled)
# Charged on an invoice: booked time that was used (or is in use), and no-shows.
BILLED = (*ENTITLING, ReservationStatus.completed, ReservationStatus.no_show)


class ReservationBase(SQLModel):
    """What every shape of a reservation shares; the API names the span `start` and `end`."""

    start_at: datetime = Field(alias="start")
    end_at: datetime = Field(alias="end")
    note: str = Field(default="", max_length=500)


class Reservation(ReservationBase, table=True):
    # Covers the utilisation report's ranges per resource and bucket (report_ranges.py).
    __table_args__ = (
        Index("ix_reservation_resource_span", "resource_id", "start_at", "end_at", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(foreign_key="resource.id", index=True)
    # Rows are built by column name: the API's names stop at the API shapes.
    start_at: datetime = Field(sa_type=UTCDateTime)
    end_at: datetime = Field(sa_type=UTCDateTime)
    account_id: int = Field(foreign_key="account.id", index=True)
    created_by_id: int = Field(foreign_key="account.id")
    status: ReservationStatus = Field(default=ReservationStatus.confirmed, index=True)
    # end_at plus the resource's buffer: the span no other booking may touch.
    blocked_until: datetime = Field(sa_type=UTCDateTime)
    series_id: str | None = Field(default=None, index=True, max_length=36)
    walk_in: bool = False
    override_reason: str = Field(default="", max_length=500)
    sequence: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    checked_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Recurrence(SQLModel):
    model_config = SQLModelConfig(extra="forbid")

    freq: str = Field(schema_extra={"pattern": "^(daily|weekly)$"})
    interval: int = Field(default=1, ge=1, le=52)
    count: int | None = Field(default=None, ge=1)
    until: Moment | None = None
    skip_conflicts: bool = False


class ReservationCreate(ReservationBase):
    model_config = SQLModelConfig(extra="forbid")

    resource_id: Id
    start_at: Moment = Field(alias="start")
    end_at: Moment = Field(alias="end")
    recurrence: Recurrence | None = None
    # Operators only: book for this account, and/or break rules with a reason.
    account_id: Id | None = None
    override_reason: str | None = Field(default=None, min_length=3, max_length=500)


class ReservationUpdate(ReservationBase):
    model_config = SQLModelConfig(extra="forbid")

    start_at: Moment | None = Field(default=None, alias="start")  # type: ignore[assignment]
    end_at: Moment | None = Field(default=None, alias="end")  # type: ignore[assignment]
    note: str | None = Field(default=None, max_length=500)  # type: ignore[assignment]
    override_reason: str | None = Field(default=None, min_length=3, max_length=500)


class ReservationPublic(ReservationBase):
    # Read from a row by attribute name, written out under the API's names.
    model_config = SQLModelConfig(populate_by_name=True, serialize_by_alias=True)

    id: int
    resource_id: int
    account_id: int
    status: ReservationStatus
    note: str
    series_id: str | None
    walk_in: bool
    override_reason: str
    checked_in_at: datetime | None
    released_at: datetime | None
