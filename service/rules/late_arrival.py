"""The late-arrival rule: a booker who came too late is billed for what they ran, not lost.

The scheduler releases a booking nobody checked in to within `no_show_after_min`
as a no-show; the machine is then free, so a run the booker starts afterwards has
no reservation and is recorded as unauthorised. Billing does not let that run go
free, nor charge the no-show as if nobody came:

- an unauthorised run on a machine, by the account (named by its badge) whose
  booking of that machine was released as a no-show, that starts within the
  booked span [start, end), is a late arrival;
- the late arrival is billed to that account as a walk-in: by its own run time,
  one unit per run (the plan's minimum applies to each run), at the machine's
  rate, less the membership discount;
- the no-show fee of that booking is waived: the person came.

An unauthorised run without a badge, by someone else, on another machine or
outside the booked span stays unbilled, as before, and keeps its alert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from ..models import Reservation, ReservationStatus, UsageSession


@dataclass(frozen=True)
class LateArrivals:
    """Late runs (by run id, with the no-show booking they belong to) and waived no-shows."""

    runs: dict[int, Reservation] = field(default_factory=dict)
    waived: set[int] = field(default_factory=set)


def late_arrivals(*, session: Session, start: datetime, end: datetime) -> LateArrivals:
    """The late arrivals whose run or no-show booking starts in [start, end)."""
    pairs = session.exec(
        select(UsageSession, Reservation)
        .join(
            Reservation,
            and_(
                col(Reservation.resource_id) == col(UsageSession.resource_id),
                col(Reservation.account_id) == col(UsageSession.account_id),
                col(Reservation.start_at) <= col(UsageSession.start_at),
                col(Reservation.end_at) > col(UsageSession.start_at),
            ),
        )
        .where(
            col(UsageSession.unauthorised).is_(True),
            col(Reservation.status) == ReservationStatus.no_show,
            or_(
                and_(col(UsageSession.start_at) >= start, col(UsageSession.start_at) < end),
                and_(col(Reservation.start_at) >= start, col(Reservation.start_at) < end),
            ),
        )
        .order_by(col(UsageSession.start_at))
    )
    found = LateArrivals()
    for run, booking in pairs:
        found.waived.add(booking.id or 0)
        if start <= run.start_at < end:
            found.runs.setdefault(run.id or 0, booking)
    return found
