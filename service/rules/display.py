"""What the tablet beside a machine or room shows: who has it, for how long, what is next.

The display needs no login, so it learns only first names and times: no e-mail,
no company, no note, no full name.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from ..errors import Forbidden, NotFound
from ..models import (
    ENTITLING,
    Account,
    Device,
    Reservation,
    ReservationStatus,
    Resource,
    Site,
    UsageSession,
)
from .accounts import Principal
from .audit import record
from .holding import holds

# Korean names are written family name first, without a space: 김민준 is 민준 to friends.
_HANGUL = range(0xAC00, 0xD7A4)


def _hangul(word: str) -> bool:
    return bool(word) and all(ord(c) in _HANGUL for c in word)


def first_name(name: str) -> str:
    """The given name only: 김민준 → 민준, 김 민준 → 민준, Jane Doe → Jane."""
    words = name.split()
    if not words:
        return ""
    if _hangul(words[0]):
        if len(words) == 1:
            return words[0][1:] if len(words[0]) >= 3 else words[0]
        return words[1] if len(words[0]) <= 2 else words[0][1:]
    return words[0]


@dataclass(frozen=True)
class Holder:
    """Someone at the resource now: their first name and until when."""

    first_name: str
    until: datetime | None
    remaining: timedelta | None
    walk_in: bool = False
    # False while a booking has begun but nobody has checked in yet.
    checked_in: bool = True


@dataclass(frozen=True)
class Next:
    first_name: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Live:
    """The device's last word: its state (off, idle, running, fault) and whether it is online."""

    state: str | None
    online: bool
    since: datetime | None


@dataclass(frozen=True)
class Board:
    resource: Resource
    site: Site
    now: datetime
    holder: Holder | None
    next: Next | None
    live: Live | None


def display_resource(*, session: Session, secret: str) -> tuple[Resource, Site]:
    """The active resource whose display this secret opens, else NotFound."""
    row = session.exec(
        select(Resource, Site)
        .join(Site, col(Site.id) == col(Resource.site_id))
        .where(Resource.display_secret == secret, col(Resource.active).is_(True))
    ).first()
    if row is None or not secret:
        raise NotFound("no such display")
    return row


def _first_name(session: Session, account_id: int | None) -> str:
    account = session.get(Account, account_id) if account_id is not None else None
    return first_name(account.name) if account is not None else ""


def _holder(session: Session, resource: Resource, now: datetime) -> Holder | None:
    held = session.exec(
        select(Reservation)
        .where(Reservation.resource_id == resource.id, holds(now, statuses=ENTITLING))
        .order_by(col(Reservation.start_at))
    ).first()
    if held is not None:
        return Holder(
            _first_name(session, held.account_id),
            held.end_at,
            held.end_at - now,
            walk_in=held.walk_in,
            checked_in=held.status == ReservationStatus.active,
        )
    walked = session.exec(
        select(UsageSession).where(
            UsageSession.resource_id == resource.id,
            col(UsageSession.end_at).is_(None),
            col(UsageSession.walk_in).is_(True),
        )
    ).first()
    if walked is not None:
        return Holder(_first_name(session, walked.account_id), None, None, walk_in=True)
    return None


def _next(session: Session, resource: Resource, now: datetime) -> Next | None:
    coming = session.exec(
        select(Reservation)
        .where(
            Reservation.resource_id == resource.id,
            # A pending request is not shown: it may yet be declined.
            Reservation.status == ReservationStatus.confirmed,
            col(Reservation.start_at) > now,
        )
        .order_by(col(Reservation.start_at))
    ).first()
    if coming is None:
        return None
    return Next(_first_name(session, coming.account_id), coming.start_at, coming.end_at)


def _live(session: Session, resource: Resource) -> Live | None:
    device = session.exec(
        select(Device).where(Device.resource_id == resource.id).order_by(col(Device.id))
    ).first()
    if device is None:
        return None
    return Live(device.state, device.online, device.state_since)


def board(*, session: Session, now: datetime, secret: str) -> Board:
    """Everything the display shows, read at `now`; NotFound for a wrong secret."""
    resource, site = display_resource(session=session, secret=secret)
    return Board(
        resource,
        site,
        now,
        _holder(session, resource, now),
        _next(session, resource, now),
        _live(session, resource),
    )


def displays(*, session: Session, site: Site) -> list[Resource]:
    """The active resources of a site, each with its display secret, by id."""
    return list(
        session.exec(
            select(Resource)
            .where(Resource.site_id == site.id, col(Resource.active).is_(True))
            .order_by(col(Resource.id))
        )
    )


def reset_display_secret(
    *, session: Session, now: datetime, actor: Principal, resource_id: int
) -> Resource:
    """A new display secret: the old display URL stops working at once."""
    resource = session.get(Resource, resource_id)
    if resource is None:
        raise NotFound(f"no resource {resource_id}")
    if not actor.operates(resource.site_id):
        raise Forbidden("only an operator of this site may reset its displays")
    resource.display_secret = secrets.token_urlsafe(18)
    session.add(resource)
    # The secret stays out of the log: it opens the display.
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="resource.display_reset",
        subject=f"resource:{resource_id}",
    )
    return resource
