"""Notifications about reservations: what to tell whom, and whether it is still worth telling.

Reminders come from upcoming reservations; approvals, declines, cancellations and
no-shows come from the audit log, so every path that makes such a decision (API,
web, scheduler) is covered without each having to remember to notify.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..languages import catalogue, mark, person_locale
from ..models import (
    ENTITLING,
    Account,
    AuditLog,
    Notification,
    NotificationKind,
    NotificationState,
    Reservation,
    ReservationStatus,
    Resource,
    Site,
)

DECISIONS = {
    "reservation.approve": NotificationKind.approved,
    "reservation.decline": NotificationKind.declined,
    "reservation.cancel": NotificationKind.cancelled,
    "reservation.no_show": NotificationKind.no_show,
}
# Written in English and translated, per person, from the pages' catalogues.
_TITLES = {
    NotificationKind.reminder: mark("Reminder: {name} at {start}"),
    NotificationKind.approved: mark("Approved: {name} at {start}"),
    NotificationKind.declined: mark("Declined: {name} at {start}"),
    NotificationKind.cancelled: mark("Cancelled: {name} at {start}"),
    NotificationKind.no_show: mark("Missed: {name} at {start}"),
}
_TEXTS = {
    NotificationKind.reminder: mark(
        "Your booking of {name} ({site}) starts at {start} and ends at {end}."
        " Tap your card at the machine to check in."
    ),
    NotificationKind.approved: mark(
        "Your booking of {name} ({site}) from {start} to {end} is approved."
    ),
    NotificationKind.declined: mark(
        "Your booking of {name} ({site}) from {start} to {end} was declined by an operator."
    ),
    NotificationKind.cancelled: mark(
        "Your booking of {name} ({site}) from {start} to {end} is cancelled."
    ),
    NotificationKind.no_show: mark(
        "You did not check in to {name} ({site}) booked from {start} to {end};"
        " the slot was released and a no-show is recorded."
    ),
}

_REASON = mark("The operator's reason: {reason}")


def _render(
    session: Session,
    kind: NotificationKind,
    reservation: Reservation,
    resource: Resource,
    site: Site,
) -> tuple[str, str]:
    """Subject and text in the language of the person booked, times in the site's zone."""
    account = session.get(Account, reservation.account_id)
    locale = person_locale(account.locale if account else None, site.timezone)
    english = locale == "en"
    zone = site.zone
    values = {
        "name": (english and resource.name_en) or resource.name,
        "site": (english and site.name_en) or site.name,
        "start": reservation.start_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        "end": reservation.end_at.astimezone(zone).strftime("%H:%M"),
    }
    words = catalogue(locale)
    return (
        words.gettext(_TITLES[kind]).format(**values),
        words.gettext(_TEXTS[kind]).format(**values),
    )


def _reason_line(session: Session, reservation: Reservation, site: Site, reason: str) -> str:
    """The operator's reason for a decision, introduced in the booker's language."""
    account = session.get(Account, reservation.account_id)
    locale = person_locale(account.locale if account else None, site.timezone)
    return catalogue(locale).gettext(_REASON).format(reason=reason)


def _add(session: Session, notification: Notification) -> bool:
    try:
        with session.begin_nested():
            session.add(notification)
    except IntegrityError:  # another scheduler recorded it first
        return False
    return True


def _context(session: Session, reservation_id: int) -> tuple[Reservation, Resource, Site] | None:
    row = session.exec(
        select(Reservation, Resource, Site)
        .join(Resource, col(Resource.id) == col(Reservation.resource_id))
        .join(Site, col(Site.id) == col(Resource.site_id))
        .where(Reservation.id == reservation_id)
    ).first()
    return (row[0], row[1], row[2]) if row else None


def queue_reminders(*, session: Session, now: datetime, lead: timedelta) -> int:
    """One reminder per confirmed booking starting within `lead`; none once it started."""
    reminded = exists().where(
        col(Notification.reservation_id) == col(Reservation.id),
        col(Notification.kind) == NotificationKind.reminder,
    )
    rows = session.exec(
        select(Reservation, Resource, Site)
        .join(Resource, col(Resource.id) == col(Reservation.resource_id))
        .join(Site, col(Site.id) == col(Resource.site_id))
        .where(
            col(Reservation.status) == ReservationStatus.confirmed,
            col(Reservation.walk_in).is_(False),
            col(Reservation.start_at) > now,
            col(Reservation.start_at) <= now + lead,
            ~reminded,
        )
    ).all()
    made = 0
    for reservation, resource, site in rows:
        subject, body = _render(session, NotificationKind.reminder, reservation, resource, site)
        made += _add(
            session,
            Notification(
                key=f"reminder:{reservation.id}",
                kind=NotificationKind.reminder,
                account_id=reservation.account_id,
                reservation_id=reservation.id,
                subject=subject,
                body=body,
                created_at=now,
                next_try_at=now,
            ),
        )
    return made


def queue_decisions(*, session: Session, now: datetime, lookback: timedelta) -> int:
    """A notification for each recent approval, decline, cancellation and no-show."""
    told = exists().where(col(Notification.audit_id) == col(AuditLog.id))
    entries = session.exec(
        select(AuditLog).where(
            col(AuditLog.at) >= now - lookback,
            col(AuditLog.action).in_(DECISIONS),
            ~told,
        )
    ).all()
    made = 0
    for entry in entries:
        kind = DECISIONS[entry.action]
        _, _, number = entry.subject.partition(":")
        found = _context(session, int(number)) if number.isdigit() else None
        if found is None:
            continue
        reservation, resource, site = found
        subject, body = _render(session, kind, reservation, resource, site)
        reason = (entry.detail or {}).get("reason") if kind == NotificationKind.declined else None
        if reason:
            body += "\n" + _reason_line(session, reservation, site, str(reason))
        made += _add(
            session,
            Notification(
                key=f"audit:{entry.id}",
                kind=kind,
                account_id=reservation.account_id,
                reservation_id=reservation.id,
                audit_id=entry.id,
                subject=subject,
                body=body,
                created_at=now,
                next_try_at=now,
            ),
        )
    return made


def claim_due(*, session: Session, now: datetime, hold: timedelta, limit: int = 100) -> list[int]:
    """Claim pending notifications that are due; each is held for `hold` while it is sent."""
    due = session.exec(
        select(Notification.id, Notification.tries)
        .where(
            col(Notification.state) == NotificationState.pending,
            col(Notification.next_try_at) <= now,
        )
        .order_by(col(Notification.id))
        .limit(limit)
    ).all()
    claimed = []
    for notification_id, tries in due:
        moved: Any = session.execute(
            Notification.__table__.update()  # type: ignore[attr-defined]
            .where(
                col(Notification.id) == notification_id,
                col(Notification.state) == NotificationState.pending,
                col(Notification.tries) == tries,
            )
            .values(tries=tries + 1, next_try_at=now + hold)
        )
        if moved.rowcount:
            claimed.append(notification_id or 0)
    return claimed


def still_useful(*, session: Session, now: datetime, notification: Notification) -> bool:
    """False for news that is no longer true: a reminder or approval of a cancelled or
    started booking, or anything about a booking that was cancelled since."""
    reservation = (
        session.get(Reservation, notification.reservation_id)
        if notification.reservation_id
        else None
    )
    if reservation is None:
        return False
    if notification.kind == NotificationKind.reminder:
        return reservation.status == ReservationStatus.confirmed and reservation.start_at > now
    if notification.kind == NotificationKind.approved:
        return reservation.status in ENTITLING
    return True


def recipient(*, session: Session, notification: Notification) -> str | None:
    account = session.get(Account, notification.account_id)
    return account.email if account is not None and account.active else None


def settle(
    *,
    session: Session,
    now: datetime,
    notification: Notification,
    state: NotificationState,
    error: str = "",
    retry: timedelta | None = None,
) -> None:
    """Record how delivery went; a failure with `retry` goes back to pending."""
    notification.error = error[:300]
    if state == NotificationState.sent:
        notification.sent_at = now
    if state == NotificationState.failed and retry is not None:
        state = NotificationState.pending
        notification.next_try_at = now + retry
    else:
        notification.next_try_at = None
    notification.state = state
    session.add(notification)
