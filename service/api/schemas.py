"""Request and response shapes of the API that are not model families."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import RuleViolation
from ..models import ReservationPublic, ReservationStatus, ResourceKind
from ..models.types import Id, Moment


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FromRow(BaseModel):
    """A response read from a database row by attribute name, written under the API's names."""

    model_config = ConfigDict(from_attributes=True, populate_by_name=True, serialize_by_alias=True)


class TokenRequest(Strict):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=200)


class TokenResponse(BaseModel):
    token: str
    expires_at: datetime
    account_id: int


class TokenPublic(BaseModel):
    """A live token as its owner sees it: never the token itself."""

    id: int
    kind: Literal["page", "api"] = Field(description="a browser's login or an API token")
    label: str = Field(description="the program that asked for it, e.g. 'Chrome · Android'")
    created_at: datetime
    expires_at: datetime
    current: bool = Field(description="the token this request was sent with")


class ResourceQuery(Strict):
    site: str | None = Field(default=None, description="site slug")
    kind: ResourceKind | None = None


def check_span(start: datetime, end: datetime, *, longest: timedelta, too_long: str) -> None:
    """Refuse a span that ends before it starts, or that is longer than `longest`."""
    if end <= start:
        raise RuleViolation("'to' must be after 'from'", code="invalid_range")
    if end - start > longest:
        raise RuleViolation(too_long, code="range_too_long")


class RangeQuery(Strict):
    """A `from`-`to` span, checked once here for every view that takes one."""

    MAX_DAYS: ClassVar[int] = 62

    from_: Moment = Field(alias="from")
    to: Moment

    # A RuleViolation is not a ValueError: it leaves validation as itself, with its own code.
    @model_validator(mode="after")
    def _span(self) -> Self:
        # Whole days count: 62 days and some hours still pass.
        longest = timedelta(days=self.MAX_DAYS + 1) - timedelta.resolution
        too_long = f"ask for at most {self.MAX_DAYS} days at once"
        check_span(self.from_, self.to, longest=longest, too_long=too_long)
        return self


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
