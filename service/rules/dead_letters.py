"""How long dead letters are kept: rows older than the retention are deleted in batches.

The counters (`dead_letter_count`) stay: they say how many came, the rows only what the
recent ones looked like.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from ..models import DeadLetter


def purge_dead_letters(*, session: Session, now: datetime, retention: timedelta, limit: int) -> int:
    """Delete at most `limit` dead letters older than `retention`, oldest first; how many."""
    oldest = (
        select(DeadLetter.id)
        .where(col(DeadLetter.at) < now - retention)
        .order_by(col(DeadLetter.id))
        .limit(limit)
    )
    result = session.execute(
        delete(DeadLetter)
        .where(col(DeadLetter.id).in_(oldest.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
