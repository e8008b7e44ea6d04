"""Writing the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from ..models import AuditLog


def record(
    *,
    session: Session,
    now: datetime,
    actor_id: int | None,
    action: str,
    subject: str,
    **detail: Any,
) -> None:
    """Add one audit entry to the session's transaction."""
    session.add(AuditLog(at=now, actor_id=actor_id, action=action, subject=subject, detail=detail))


def record_many(*, session: Session, now: datetime, action: str, subjects: list[str]) -> None:
    """One entry per subject for an action the system took on many at once."""
    if not subjects:
        return
    session.execute(
        AuditLog.__table__.insert(),  # type: ignore[attr-defined]
        [
            {"at": now, "actor_id": None, "action": action, "subject": s, "detail": {}}
            for s in subjects
        ],
    )
