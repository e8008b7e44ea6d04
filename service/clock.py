"""The one place smartfab reads the wall clock; everything else is handed `now`."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
