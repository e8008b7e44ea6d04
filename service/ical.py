"""iCalendar (RFC 5545) feeds of a person's or a resource's reservations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from icalendar import Calendar, Event
from sqlmodel import Session, col, select

from .models import Account, Reservation, ReservationStatus, Resource, Site

PRODID = "-//smartfab//bookings//EN"
_STATUS = {
    ReservationStatus.pending: "TENTATIVE",
    ReservationStatus.cancelled: "CANCELLED",
}


def uid_of(reservation: Reservation) -> str:
    """Stable for the life of a reservation, whatever changes."""
    return f"reservation-{reservation.id}@smartfab"


def _calendar(
    name: str,
    rows: Iterable[tuple[Reservation, Resource, Site]],
    now: datetime,
    private: bool,
) -> bytes:
    """`private` feeds (a person's own) carry notes; a resource's feed shows only times."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for reservation, resource, site in rows:
        event = Event()
        event.add("uid", uid_of(reservation))
        event.add("dtstamp", now)
        event.add("dtstart", reservation.start_at.astimezone(site.zone))
        event.add("dtend", reservation.end_at.astimezone(site.zone))
        event.add(
            "summary",
            f"{resource.name} ({resource.name_en})" if resource.name_en else resource.name,
        )
        event.add("location", site.name)
        event.add("sequence", reservation.sequence)
        event.add("status", _STATUS.get(reservation.status, "CONFIRMED"))
        event.add("last-modified", reservation.updated_at)
        if private and reservation.note:
            event.add("description", reservation.note)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _rows(session: Session, condition: Any) -> list[tuple[Reservation, Resource, Site]]:
    query = (
        select(Reservation, Resource, Site)
        .join(Resource, Resource.id == Reservation.resource_id)  # type: ignore[arg-type]
        .join(Site, Site.id == Resource.site_id)  # type: ignore[arg-type]
        .where(condition)
        .where(col(Reservation.status) != ReservationStatus.no_show)
        .order_by(col(Reservation.start_at))
    )
    return list(session.exec(query).all())


def feed_for_secret(*, session: Session, secret: str, now: datetime) -> bytes | None:
    """The feed behind a secret URL, or None when the secret names nothing."""
    account = session.exec(select(Account).where(Account.ical_secret == secret)).first()
    if account is not None:
        rows = _rows(session, Reservation.account_id == account.id)
        return _calendar(f"smartfab: {account.name}", rows, now, private=True)
    resource = session.exec(select(Resource).where(Resource.ical_secret == secret)).first()
    if resource is not None:
        rows = _rows(session, Reservation.resource_id == resource.id)
        return _calendar(f"smartfab: {resource.name}", rows, now, private=False)
    return None
