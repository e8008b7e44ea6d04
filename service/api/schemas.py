"""Request and response shapes of the API that are not model families."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ..models import Reservation, ReservationPublic, ReservationStatus, ResourceKind
from ..models.types import Id, Moment


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenRequest(Strict):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=200)


class TokenResponse(BaseModel):
    token: str
    expires_at: datetime
    account_id: int


class ResourceQuery(Strict):
    site: str | None = Field(default=None, description="site slug")
    kind: ResourceKind | None = None


class RangeQuery(Strict):
    from_: Moment = Field(alias="from")
    to: Moment


class CatalogueRangeQuery(RangeQuery):
    site: str | None = Field(default=None, description="site slug")
    kind: ResourceKind | None = None


class FreeInterval(BaseModel):
    start: datetime
    end: datetime


class Availability(BaseModel):
    resource_id: int
    timezone: str
    slot_minutes: int
    start: datetime
    end: datetime
    free: list[FreeInterval]


class ReservationQuery(Strict):
    mine: bool = False
    from_: Moment | None = Field(default=None, alias="from")
    to: Moment | None = None
    resource_id: Id | None = None
    status: ReservationStatus | None = None


class ExtendRequest(Strict):
    end: Moment


class SeriesPublic(BaseModel):
    series_id: str
    reservations: list[ReservationPublic]
    skipped: list[dict[str, object]]


def reservation_public(r: Reservation) -> ReservationPublic:
    return ReservationPublic(
        id=r.id or 0,
        resource_id=r.resource_id,
        account_id=r.account_id,
        start=r.start_at,
        end=r.end_at,
        status=r.status,
        note=r.note,
        series_id=r.series_id,
        walk_in=r.walk_in,
        override_reason=r.override_reason,
        checked_in_at=r.checked_in_at,
        released_at=r.released_at,
    )
