"""Whether a reservation may be changed now, and the refusal when not.

One guard per change (status, who, and the change's own time rule); the transitions in
`lifecycle` raise what these return, and pages show them before anyone tries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ..errors import Conflict, DomainError, Forbidden, RuleViolation
from ..models import Reservation, ReservationStatus, Site
from .accounts import Principal
from .holding import CHECK_IN_EARLY, reservation_holds

# What each change needs of a reservation's status.
CHANGEABLE: dict[str, tuple[ReservationStatus, ...]] = {
    "cancel": (ReservationStatus.pending, ReservationStatus.confirmed),
    "move": (ReservationStatus.pending, ReservationStatus.confirmed),
    "check_in": (ReservationStatus.confirmed,),
    "release": (ReservationStatus.active, ReservationStatus.confirmed),
    "extend": (ReservationStatus.confirmed, ReservationStatus.active),
    "decide": (ReservationStatus.pending,),
}
# The actions a booker is offered on a reservation, in the order a page shows them.
ACTIONS = ("check_in", "release", "extend", "move", "cancel")


def _may_change(reservation: Reservation, site: Site, actor: Principal) -> DomainError | None:
    if reservation.account_id != actor.id and not actor.operates(site.id or 0):
        return Forbidden("only the booker or an operator of the site may change this reservation")
    return None


def _in_state(reservation: Reservation, action: str) -> DomainError | None:
    if reservation.status not in CHANGEABLE[action]:
        return Conflict(
            f"a {reservation.status.value} reservation cannot be changed this way",
            {"status": reservation.status.value},
            code="invalid_state",
        )
    return None


def _cancel_guard(
    reservation: Reservation, site: Site, actor: Principal, now: datetime
) -> DomainError | None:
    if now >= reservation.start_at and not actor.operates(site.id or 0):
        # After the start a booking is used or missed (billing counts no-shows): release it.
        return Conflict("the reservation has started: release it instead", code="already_started")
    return None


def _check_in_guard(
    reservation: Reservation, site: Site, actor: Principal, now: datetime
) -> DomainError | None:
    if not reservation_holds(reservation, now, check_in=True):
        return RuleViolation(
            f"check-in opens {CHECK_IN_EARLY // timedelta(minutes=1)} minutes before the start "
            "and closes at the end",
            {"start": reservation.start_at.isoformat(), "end": reservation.end_at.isoformat()},
            code="check_in_window",
        )
    return None


def _release_guard(
    reservation: Reservation, site: Site, actor: Principal, now: datetime
) -> DomainError | None:
    if now < reservation.start_at:
        return Conflict("the reservation has not started: cancel it instead", code="not_started")
    return None


def _extend_guard(
    reservation: Reservation, site: Site, actor: Principal, now: datetime
) -> DomainError | None:
    if now >= reservation.end_at:
        return Conflict("the reservation has ended", code="invalid_state")
    return None


def _no_guard(
    reservation: Reservation, site: Site, actor: Principal, now: datetime
) -> DomainError | None:
    return None


Guard = Callable[[Reservation, Site, Principal, datetime], DomainError | None]
GUARDS: dict[str, Guard] = {
    "cancel": _cancel_guard,
    "move": _no_guard,
    "check_in": _check_in_guard,
    "release": _release_guard,
    "extend": _extend_guard,
    "decide": _no_guard,
}


def refusal_for(
    *, action: str, reservation: Reservation, site: Site, actor: Principal, now: datetime
) -> DomainError | None:
    """Why `actor` may not take `action` on `reservation` now, or None when they may.

    The same guards, in the same order, as the change itself: who, then the status,
    then the action's own rule about the time. What the change learns only from its
    input (a new time that clashes, an end not later) is still refused by the change.
    """
    return (
        _may_change(reservation, site, actor)
        or _in_state(reservation, action)
        or GUARDS[action](reservation, site, actor, now)
    )


def allowed_actions(
    *, reservation: Reservation, site: Site, actor: Principal, now: datetime
) -> dict[str, DomainError | None]:
    """For each action a booker is offered, None when allowed, else the rule's refusal."""
    return {
        action: refusal_for(action=action, reservation=reservation, site=site, actor=actor, now=now)
        for action in ACTIONS
    }
