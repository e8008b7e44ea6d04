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
