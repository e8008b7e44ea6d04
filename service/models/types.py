"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field
from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC; naive values are refused on the way in."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused: times must carry a time zone")
        value = value.astimezone(UTC)
        # SQLite has no time zone type: store naive UTC text so that it sorts.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _within_range(value: datetime) -> datetime:
    if not EARLIEST <= value <= LATEST:
        raise ValueError("time must be between 2000-01-01 and 2100-01-01")
    return value.astimezone(UTC)


# An API timestamp: RFC 3339 with an offset (naive is refused), kept in UTC.
Moment = Annotated[AwareDatetime, AfterValidator(_within_range)]


# Id columns are INTEGER: 32-bit on PostgreSQL (64-bit on SQLite). A larger number
# names nothing, and must not reach the database, whose driver raises on it.
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
