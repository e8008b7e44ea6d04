"""What an administrator may send to change the catalogue and the people.

One shape per change, read by the JSON endpoint and by the page's form alike, so a
value refused by one is refused by the other with the same reason.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from . import credentials
from .account import RoleName
from .resource import ResourceKind
from .types import Id, Moment

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def _slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise PydanticCustomError("slug", "use lower-case letters, digits and dashes")
    return value


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "time_zone", "not a time zone of the IANA database, e.g. Asia/Seoul"
        ) from None
    return value


Slug = Annotated[str, AfterValidator(_slug)]
TimeZone = Annotated[str, Field(max_length=64), AfterValidator(_zone)]
Email = Annotated[str, Field(max_length=254), AfterValidator(credentials.email_address)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Category = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
Password = Annotated[str, AfterValidator(credentials.password)]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- sites -------------------------------------------------------------------------------


class Hours(_Shape):
    """One opening interval on a weekday (0 = Monday), in the site's local time."""

    weekday: int = Field(ge=0, le=6)
    opens: time
    closes: time

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.closes <= self.opens:
            raise PydanticCustomError("hours_order", "a site closes after it opens")
        return self


class SiteUpdate(_Shape):
    name: Name | None = None
    name_en: str | None = Field(default=None, max_length=200)
    timezone: TimeZone | None = None
    address: str | None = Field(default=None, max_length=300)
    machine_quota_hours: int | None = Field(default=None, ge=0, le=168)
    room_quota_hours: int | None = Field(default=None, ge=0, le=168)
    # When given, replaces the whole week.
    hours: list[Hours] | None = Field(default=None, max_length=28)

    @model_validator(mode="after")
    def _apart(self) -> Self:
        spans = sorted((h.weekday, h.opens, h.closes) for h in self.hours or ())
        for (day, _, closes), (next_day, opens, _) in zip(spans, spans[1:], strict=False):
            if day == next_day and opens < closes:
                raise PydanticCustomError("hours_overlap", "a day's opening hours overlap")
        return self


class SiteCreate(SiteUpdate):
    slug: Slug
    name: Name
    timezone: TimeZone = "Asia/Seoul"


class HolidayCreate(_Shape):
    """A day or span the whole site is closed."""

    start: Moment
    end: Moment
    reason: str = Field(default="", max_length=300)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise PydanticCustomError("invalid_range", "the end must be after the start")
        return self


# -- resources ---------------------------------------------------------------------------


class ResourceUpdate(_Shape):
    name: Name | None = None
    name_en: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9_]*$")
    slot_minutes: int | None = Field(default=None, ge=5, le=1440)
    min_minutes: int | None = Field(default=None, ge=5, le=10080)
    max_minutes: int | None = Field(default=None, ge=5, le=10080)
    buffer_minutes: int | None = Field(default=None, ge=0, le=240)
    lead_minutes: int | None = Field(default=None, ge=0, le=10080)
    max_days_ahead: int | None = Field(default=None, ge=1, le=730)
    requires_training: bool | None = None
    requires_approval: bool | None = None
    walk_in_allowed: bool | None = None
    capacity: int | None = Field(default=None, ge=1, le=1000)
    rate_per_hour: int | None = Field(default=None, ge=0, le=10_000_000)
    # A rate plan, or null for the hourly rate; a change of plan or rate is a dated
    # version from `price_from` (default: tomorrow in the site's zone).
    rate_plan_id: int | None = Field(default=None, ge=1)
    price_from: date | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _durations(self) -> Self:
        if self.min_minutes and self.max_minutes and self.min_minutes > self.max_minutes:
            raise PydanticCustomError(
                "min_over_max", "the shortest booking cannot be longer than the longest"
            )
        return self


class ResourceCreate(ResourceUpdate):
    site_id: Id
    kind: ResourceKind
    slug: Slug
    name: Name


# -- devices -----------------------------------------------------------------------------


class DeviceUpdate(_Shape):
    # None unbinds the device (a spare, or a sensor of no resource).
    resource_id: Id | None = None


class DeviceCreate(DeviceUpdate):
    site_id: Id
    slug: Slug


# -- trainings ---------------------------------------------------------------------------


class TrainingUpdate(_Shape):
    # None: valid without end.
    expires_on: date | None = None


class TrainingGrant(TrainingUpdate):
    account_id: Id
    category: Category


# -- accounts ----------------------------------------------------------------------------


class AccountUpdate(_Shape):
    name: Name | None = None
    role: RoleName | None = None
    # The site an operator runs; required with role "operator".
    site_id: Id | None = None
    active: bool | None = None
    card_uid: str | None = Field(default=None, max_length=32, pattern=r"^[0-9A-Fa-f]*$")
    # The company (소공인 business) the person belongs to; None: none.
    company_id: Id | None = None
    # True: the person's usage goes on the company's monthly invoice.
    bills_to_company: bool | None = None


class AccountCreate(_Shape):
    email: Email
    name: Name
    role: RoleName = RoleName.maker
    site_id: Id | None = None
    # None: a password is made up and shown once.
    password: Password | None = None
    card_uid: str | None = Field(default=None, max_length=32, pattern=r"^[0-9A-Fa-f]*$")

    @field_validator("password")
    @classmethod
    def _password_not_email(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and "email" in info.data:
            credentials.password(value, email=info.data["email"])
        return value


class PasswordReset(_Shape):
    # None: a password is made up and shown once.
    password: Password | None = None


# -- answers -----------------------------------------------------------------------------


class DevicePublic(BaseModel):
    id: int
    site_id: int
    slug: str
    resource_id: int | None
    online: bool
    # When its credentials were taken away; null while it may connect.
    revoked_at: datetime | None = None


class DeviceCredentials(DevicePublic):
    # The device's MQTT user name and password; the password is shown only this once.
    username: str
    password: str


class TrainingPublic(BaseModel):
    id: int
    account_id: int
    category: str
    expires_on: date | None


class HolidayPublic(BaseModel):
    id: int
    site_id: int
    start: Moment
    end: Moment
    reason: str


class PersonPublic(BaseModel):
    id: int
    email: str
    name: str
    role: RoleName
    site_id: int | None
    active: bool
    card_uid: str | None
    company_id: int | None = None
    bills_to_company: bool = False


class PersonCreated(PersonPublic):
    # A made-up password, shown once; None when the caller chose it.
    password: str | None


class NewPassword(BaseModel):
    password: str | None


class Revoked(BaseModel):
    revoked: int
