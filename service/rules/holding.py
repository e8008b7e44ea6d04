"""Which reservations hold their resource at a moment: one definition for every rule."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_
from sqlmodel import col

from ..models import BLOCKING, Reservation, ReservationStatus


def holds(
    now: datetime,
    *,
    early: timedelta = timedelta(0),
    statuses: Sequence[ReservationStatus] = BLOCKING,
) -> ColumnElement[bool]:
    """A reservation of `statuses` that has begun (or begins within `early`) and is not over.

    `early` is the check-in window for a booker who arrives first; the scheduler passes
    only confirmed and active reservations, as a pending one gets no machine.
    """
    return and_(
        col(Reservation.status).in_(statuses),
        col(Reservation.start_at) <= now + early,
        col(Reservation.end_at) > now,
    )
