"""The closing window: a month is issued once its runs have ended, or after a grace period.

A usage session that started in the month and is still open holds the month's
issue back: billing it now would bill only what it ran so far. Once the grace
period after the month's end (`[billing] close_grace_h`) has passed, the month is
issued anyway: open runs are billed for what they ran up to the issue, and what
they run afterwards is billed later as an adjustment (adjustments.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from ..errors import Conflict
from ..models import Resource, UsageSession
from .pricing import BillingTerms, Period


def open_sessions(*, session: Session, period: Period) -> list[UsageSession]:
    """Usage sessions that started in the period and have not ended yet."""
    return list(
        session.exec(
            select(UsageSession)
            .where(
                col(UsageSession.start_at) >= period.start,
                col(UsageSession.start_at) < period.end,
                col(UsageSession.end_at).is_(None),
            )
            .order_by(col(UsageSession.start_at), col(UsageSession.id))
        )
    )


def ensure_closed(*, session: Session, now: datetime, terms: BillingTerms, period: Period) -> None:
    """Refuse (409 `month_open`) while open runs hold the month back within the grace period."""
    holding = open_sessions(session=session, period=period)
    grace_ends = (period.end + terms.close_grace).astimezone(UTC)
    if not holding or now >= grace_ends:
        return
    resources = {
        r.id: r
        for r in session.exec(
            select(Resource).where(col(Resource.id).in_({run.resource_id for run in holding}))
        )
    }
    raise Conflict(
        f"{period.name} has {len(holding)} run(s) still open: it can be issued once they "
        f"end, or from {grace_ends.isoformat()} with the open runs billed up to then",
        details={
            "period": period.name,
            "grace_ends_at": grace_ends.isoformat(),
            "sessions": [
                {
                    "id": run.id,
                    "resource_id": run.resource_id,
                    "resource": resources[run.resource_id].slug,
                    "started_at": run.start_at.astimezone(UTC).isoformat(),
                }
                for run in holding
            ],
        },
        code="month_open",
    )
