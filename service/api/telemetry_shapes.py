"""Request and response shapes of the live status, telemetry and dead-letter views."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, field_validator

from ..errors import RuleViolation
from ..models import ResourceKind
from ..models.types import Id, Moment
from .schemas import FromRow, Strict, check_span

DEFAULT_SPAN = timedelta(hours=1)
MAX_RAW_SPAN = timedelta(days=1)
MAX_SPAN = timedelta(days=366)
MAX_BUCKETS = 10_000
_DURATION = re.compile(r"^(\d{1,9})(ms|s|m|h|d)$")
_UNITS = {"ms": "milliseconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class UsagePublic(FromRow):
    # The session a machine is running now.
    id: int
    start_at: datetime = Field(alias="start")
    reservation_id: int | None
    account_id: int | None
    walk_in: bool
    unauthorised: bool
    run_seconds: int
    energy_wh: Annotated[float, AfterValidator(lambda wh: round(wh, 3))]


class AlertPublic(FromRow):
    id: int
    kind: str
    subject: str
    message: str
    opened_at: datetime


class ResourceStatus(BaseModel):
    resource_id: int
    site: str
    slug: str
    name: str
    kind: ResourceKind
    category: str
    device: str | None
    online: bool | None
    state: str | None
    state_since: datetime | None
    last_seen: datetime | None
    values: dict[str, Any]
    in_use: UsagePublic | None
    alerts: list[AlertPublic]


class TelemetryQuery(Strict):
    field: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,63}$")
    from_: Moment | None = Field(default=None, alias="from")
    to: Moment | None = None
    every: str | None = Field(default=None, description="bucket width, e.g. 30s, 5m, 1h, 1d")

    @field_validator("every")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            match = _DURATION.match(value)
            if match is None or int(match[1]) == 0:
                raise ValueError("a positive whole number with ms, s, m, h or d, e.g. 5m")
        return value

    def bucket(self) -> timedelta | None:
        if self.every is None:
            return None
        match = _DURATION.match(self.every)
        assert match is not None  # noqa: S101 - checked by the validator
        return timedelta(**{_UNITS[match[2]]: int(match[1])})

    def span(self, now: datetime) -> tuple[datetime, datetime]:
        """The history asked for: up to `to` (else now), the last hour unless `from` says."""
        end = self.to or now
        start = self.from_ or end - DEFAULT_SPAN
        check_span(start, end, longest=MAX_SPAN, too_long="ask for at most a year at once")
        every = self.bucket()
        if every is None and end - start > MAX_RAW_SPAN:
            raise RuleViolation(
                "raw values cover at most a day; ask for 'every' to downsample",
                code="range_too_long",
            )
        if every is not None and (end - start) / every > MAX_BUCKETS:
            raise RuleViolation(
                f"at most {MAX_BUCKETS} buckets; widen 'every'", code="too_many_buckets"
            )
        return start, end


class TelemetrySample(BaseModel):
    ts: datetime
    value: float | str | None


class TelemetryHistory(BaseModel):
    resource_id: int
    site: str
    resource: str
    field: str
    start: datetime
    end: datetime
    every: str | None
    points: list[TelemetrySample]


class TelemetryLatest(BaseModel):
    resource_id: int
    site: str
    resource: str
    ts: datetime | None
    values: dict[str, Any]


class StatusQuery(Strict):
    site: str | None = Field(default=None, description="site slug")


class DeadLetterQuery(Strict):
    site: str | None = Field(default=None, description="site slug")
    reason: str | None = Field(default=None, max_length=64)
    before_id: Id | None = Field(default=None, description="page: letters older than this")
    limit: int = Field(default=100, ge=1, le=1000)


class DeadLetterPublic(FromRow):
    id: int
    at: datetime
    topic: str
    site: str | None
    device: str | None
    reason: str
    size: int
    payload: str = Field(description="the first KiB, undecodable bytes as \\x escapes")

    @field_validator("payload", mode="before")
    @classmethod
    def _readable(cls, payload: Any) -> Any:
        if isinstance(payload, bytes):
            return payload.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
        return payload


class DeadLetterCountPublic(FromRow):
    source: str
    reason: str
    count: int
    first_at: datetime
    last_at: datetime
