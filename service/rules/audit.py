"""Writing the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from ..models import AuditLog, Reservation

if TYPE_CHECKING:
    from .accounts import Principal

# Entries are written with a plain INSERT in the caller's transaction: nobody reads
# them back through the session, and the ORM's unit of work would only cost time.
_INSERT = AuditLog.__table__.insert()  # type: ignore[attr-defined]


def record(
    *,
    session: Session,
    now: datetime,
    actor_id: int | None,
    action: str,
    subject: str,
    **detail: Any,
) -> None:
    """Write one audit entry in the session's transaction."""
    session.connection().execute(
        _INSERT,
        {"at": now, "actor_id": actor_id, "action": action, "subject": subject, "detail": detail},
    )


def record_each(
    *,
    session: Session,
    now: datetime,
    actor_id: int | None,
    action: str,
    entries: list[tuple[str, dict[str, Any]]],
) -> None:
    """One entry per (subject, detail) for the same action, in one statement."""
    if entries:
        session.connection().execute(
            _INSERT,
            [
                {"at": now, "actor_id": actor_id, "action": action, "subject": s, "detail": d}
                for s, d in entries
            ],
        )


def record_reservation(
    *,
    session: Session,
    now: datetime,
    actor: Principal,
    reservation: Reservation,
    action: str,
    **detail: Any,
) -> Reservation:
    """Audit `reservation.<action>` by `actor`; returns the reservation."""
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action=f"reservation.{action}",
        subject=f"reservation:{reservation.id}",
        **detail,
    )
    return reservation


def record_many(*, session: Session, now: datetime, action: str, subjects: list[str]) -> None:
    """One entry per subject for an action the system took on many at once."""
    if not subjects:
        return
    session.connection().execute(
        _INSERT,
        [
            {"at": now, "actor_id": None, "action": action, "subject": s, "detail": {}}
            for s in subjects
        ],
    )
