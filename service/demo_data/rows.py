"""Ids of demo rows, which later rows refer to."""

from __future__ import annotations

from typing import Protocol

from sqlmodel import Session


class _Stored(Protocol):
    id: int | None


def stored_id(session: Session, row: _Stored) -> int:
    """The id the database gave `row`, flushing it first if it has none yet."""
    if row.id is None:
        session.flush()
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no id after a flush")
    return row.id
