"""Reservations: book, list, read, move, cancel, and run a session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app

from ..db import get_session
from ..models import Reservation, ReservationCreate, ReservationPublic, ReservationUpdate
from ..rules import lifecycle
from ..rules.booking import create_reservation, create_series
from .context import current_principal, now
from .openapi import operation
from .schemas import ExtendRequest, ReservationQuery, SeriesPublic

bp = Blueprint("reservations", __name__, url_prefix="/api/v1/reservations")

ONE = "/<int:reservation_id>"


@operation(
    bp,
    "",
    "POST",
    summary="Book a machine or room (optionally a recurring series)",
    body=ReservationCreate,
    response=ReservationPublic | SeriesPublic,
    status=201,
    errors=(403, 404, 409),
)
def create(body: ReservationCreate) -> ReservationPublic | SeriesPublic:
    session, moment, actor = get_session(), now(), current_principal()
    if body.recurrence is None:
        made = create_reservation(session=session, now=moment, actor=actor, data=body)
        return ReservationPublic.model_validate(made, from_attributes=True)
    limit = current_app.config["SMARTFAB"].booking.max_recurrences
    series = create_series(session=session, now=moment, actor=actor, data=body, limit=limit)
    return SeriesPublic(
        series_id=series.series_id,
        reservations=[
            ReservationPublic.model_validate(r, from_attributes=True) for r in series.reservations
        ],
        skipped=series.skipped,
    )


@operation(
    bp,
    "",
    "GET",
    summary="List the reservations the caller may see",
    query=ReservationQuery,
    response=list[ReservationPublic],
)
def list_(query: ReservationQuery) -> list[ReservationPublic]:
    found = lifecycle.list_reservations(
        session=get_session(),
        actor=current_principal(),
        mine=query.mine,
        start=query.from_,
        end=query.to,
        resource_id=query.resource_id,
        status=query.status,
    )
    return [ReservationPublic.model_validate(r, from_attributes=True) for r in found]


@operation(bp, ONE, "GET", summary="Read a reservation", response=ReservationPublic, errors=(404,))
def read(reservation_id: int) -> ReservationPublic:
    found = lifecycle.get_reservation(
        session=get_session(), actor=current_principal(), reservation_id=reservation_id
    )
    return ReservationPublic.model_validate(found, from_attributes=True)


@operation(
    bp,
    ONE,
    "PATCH",
    summary="Move a reservation or change its note",
    body=ReservationUpdate,
    response=ReservationPublic,
    errors=(403, 404, 409),
)
def move(reservation_id: int, body: ReservationUpdate) -> ReservationPublic:
    moved = lifecycle.move_reservation(
        session=get_session(),
        now=now(),
        actor=current_principal(),
        reservation_id=reservation_id,
        data=body,
    )
    return ReservationPublic.model_validate(moved, from_attributes=True)


@operation(
    bp,
    ONE,
    "DELETE",
    summary="Cancel a reservation",
    response=ReservationPublic,
    errors=(403, 404, 409),
)
def cancel(reservation_id: int) -> ReservationPublic:
    return _act(lifecycle.cancel_reservation, reservation_id)


@operation(
    bp,
    ONE + "/check-in",
    "POST",
    summary="Check in (start the session)",
    response=ReservationPublic,
    errors=(403, 404, 409),
)
def check_in(reservation_id: int) -> ReservationPublic:
    return _act(lifecycle.check_in, reservation_id)


@operation(
    bp,
    ONE + "/release",
    "POST",
    summary="End early; the rest of the slot is freed",
    response=ReservationPublic,
    errors=(403, 404, 409),
)
def release(reservation_id: int) -> ReservationPublic:
    return _act(lifecycle.release, reservation_id)


@operation(
    bp,
    ONE + "/extend",
    "POST",
    summary="Extend when the following time is free",
    body=ExtendRequest,
    response=ReservationPublic,
    errors=(403, 404, 409),
)
def extend(reservation_id: int, body: ExtendRequest) -> ReservationPublic:
    return _act(lifecycle.extend, reservation_id, end=body.end)


@operation(
    bp,
    ONE + "/approve",
    "POST",
    summary="Operator: confirm a pending reservation",
    response=ReservationPublic,
    errors=(403, 404, 409),
)
def approve(reservation_id: int) -> ReservationPublic:
    return _act(lifecycle.decide_approval, reservation_id, approve=True)


@operation(
    bp,
    ONE + "/decline",
    "POST",
    summary="Operator: decline a pending reservation",
    response=ReservationPublic,
    errors=(403, 404, 409),
)
def decline(reservation_id: int) -> ReservationPublic:
    return _act(lifecycle.decide_approval, reservation_id, approve=False)


def _act(rule: Callable[..., Reservation], reservation_id: int, **args: Any) -> ReservationPublic:
    """Run one lifecycle rule on a reservation as the caller, and answer with the result."""
    done = rule(
        session=get_session(),
        now=now(),
        actor=current_principal(),
        reservation_id=reservation_id,
        **args,
    )
    return ReservationPublic.model_validate(done, from_attributes=True)
