"""The regional control tower: each center's live state, open alerts and bookings today."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from ..models import Alert, Device, Reservation, ReservationStatus, Resource, UsageSession

STATES = ("running", "idle", "fault", "offline")
# Bookings that stand for today: not cancelled (a no-show was still a booking of the day).
TODAYS = (
    ReservationStatus.pending,
    ReservationStatus.confirmed,
    ReservationStatus.active,
    ReservationStatus.completed,
    ReservationStatus.no_show,
)


def live_state(device: Device | None, usage: UsageSession | None) -> str:
    """running, idle, fault or offline: what a machine's device last said, as operators read it."""
    if device is None or not device.online:
        return "offline"
    if device.state == "fault":
        return "fault"
    if device.state == "running" or usage is not None:
        return "running"
    return "idle"


@dataclass
class CenterToday:
    states: Counter[str] = field(default_factory=Counter)
    open_alerts: int = 0
    bookings_today: int = 0


def local_day(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Today on the site's clocks, in UTC."""
    day = now.astimezone(zone).date()
    start = datetime.combine(day, time(), tzinfo=zone)
    return start.astimezone(UTC), datetime.combine(
        day + timedelta(days=1), time(), tzinfo=zone
    ).astimezone(UTC)


def centers_today(
    *, session: Session, now: datetime, zone: ZoneInfo, site_ids: list[int]
) -> dict[int, CenterToday]:
    """Open alerts and today's bookings per site (live states are filled in by the caller)."""
    found = {site_id: CenterToday() for site_id in site_ids}
    alerts = session.exec(
        select(Alert.site_id, func.count())
        .where(col(Alert.closed_at).is_(None), col(Alert.site_id).in_(site_ids))
        .group_by(col(Alert.site_id))
    )
    for site_id, count in alerts:
        found[site_id or 0].open_alerts = count
    start, end = local_day(now, zone)
    bookings = session.exec(
        select(Resource.site_id, func.count())
        .select_from(Reservation)
        .join(Resource, col(Resource.id) == col(Reservation.resource_id))
        .where(
            col(Resource.site_id).in_(site_ids),
            col(Reservation.status).in_(TODAYS),
            col(Reservation.start_at) < end,
            col(Reservation.end_at) > start,
        )
        .group_by(col(Resource.site_id))
    )
    for site_id, count in bookings:
        found[site_id].bookings_today = count
    return found
