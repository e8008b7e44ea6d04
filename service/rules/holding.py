"""Which reservations hold their resource at a moment, and the check-in window.

One rule in two forms side by side: `holds` in SQL for queries, `reservation_holds`
in Python for a reservation already loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_
from sqlmodel import col

from ..models import BLOCKING, Reservation, ReservationStatus

# How early before its start a reservation may be checked in (a badge, a machine that
# starts running); the window closes at its end.
CHECK_IN_EARLY = timedelta(minutes=15)


def _early(check_in: bool) -> timedelta:
    return CHECK_IN_EARLY if check_in else timedelta(0)


def holds(
    now: datetime,
    *,
    statuses: Sequence[ReservationStatus] = BLOCKING,
    check_in: bool = False,
    through: datetime | None = None,
) -> ColumnElement[bool]:
    """SQL: a reservation of `statuses` that has begun and is not over at `now`.

    With `check_in`, one whose check-in window is open counts as begun. With `through`,
    one that begins at any moment from `now` to `through` counts too.
    """
    return and_(
        col(Reservation.status).in_(statuses),
        col(Reservation.start_at) <= (through or now) + _early(check_in),
        col(Reservation.end_at) > now,
    )


def reservation_holds(
    reservation: Reservation,
    now: datetime,
    *,
    statuses: Sequence[ReservationStatus] = BLOCKING,
    check_in: bool = False,
) -> bool:
    """`holds` for one reservation already loaded."""
    return (
        reservation.status in statuses
        and reservation.start_at - _early(check_in) <= now < reservation.end_at
    )


def check_in_opens(reservation: Reservation) -> datetime:
    """The moment a reservation's check-in window opens."""
    return reservation.start_at - CHECK_IN_EARLY
