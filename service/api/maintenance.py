"""Staff acting on a machine: maintenance blackouts and switching it on or off by hand."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import Blueprint
from pydantic import Field

from ..db import get_session
from ..models import CommandState, DeviceCommand
from ..models.types import Moment
from ..rules import maintenance
from .context import current_principal, now
from .openapi import operation
from .schemas import FromRow, Strict

bp = Blueprint("maintenance", __name__, url_prefix="/api/v1")

RESOURCE = "/resources/<int:resource_id>"


class BlackoutCreate(Strict):
    start: Moment
    end: Moment
    reason: str = Field(min_length=1, max_length=maintenance.MAX_REASON)


class BlackoutPublic(FromRow):
    id: int
    site_id: int
    resource_id: int | None
    start_at: datetime = Field(alias="start")
    end_at: datetime = Field(alias="end")
    reason: str


class BlackoutEnded(Strict):
    id: int
    withdrawn: bool = Field(description="true: it had not begun and is gone")
    blackout: BlackoutPublic | None


class CommandCreate(Strict):
    action: Literal["enable", "disable"]
    reason: str = Field(min_length=1, max_length=maintenance.MAX_REASON)


class CommandPublic(FromRow):
    id: int
    uid: str
    device_id: int
    resource_id: int
    action: str
    source: str
    message: str
    state: CommandState
    created_at: datetime
    due_at: datetime


@operation(
    bp,
    f"{RESOURCE}/blackouts",
    "POST",
    summary="Close a machine or room for maintenance (its site's staff)",
    body=BlackoutCreate,
    response=BlackoutPublic,
    status=201,
    errors=(403, 404),
)
def add_blackout(resource_id: int, body: BlackoutCreate) -> BlackoutPublic:
    made = maintenance.create_blackout(
        session=get_session(),
        now=now(),
        actor=current_principal(),
        resource_id=resource_id,
        start=body.start,
        end=body.end,
        reason=body.reason,
    )
    return BlackoutPublic.model_validate(made)


@operation(
    bp,
    f"{RESOURCE}/blackouts/<int:blackout_id>",
    "DELETE",
    summary="End a maintenance blackout now, or withdraw one not yet begun (its site's staff)",
    response=BlackoutEnded,
    errors=(403, 404),
)
def end_blackout(resource_id: int, blackout_id: int) -> BlackoutEnded:
    ended = maintenance.end_blackout(
        session=get_session(),
        now=now(),
        actor=current_principal(),
        resource_id=resource_id,
        blackout_id=blackout_id,
    )
    return BlackoutEnded(
        id=blackout_id,
        withdrawn=ended is None,
        blackout=BlackoutPublic.model_validate(ended) if ended is not None else None,
    )


@operation(
    bp,
    f"{RESOURCE}/commands",
    "POST",
    summary="Switch a machine on or off by hand; the scheduler sends it (its site's staff)",
    body=CommandCreate,
    response=CommandPublic,
    status=201,
    errors=(403, 404),
)
def switch(resource_id: int, body: CommandCreate) -> CommandPublic:
    session = get_session()
    command_id = maintenance.switch_by_hand(
        session=session,
        now=now(),
        actor=current_principal(),
        resource_id=resource_id,
        action=body.action,
        reason=body.reason,
    )
    return CommandPublic.model_validate(session.get(DeviceCommand, command_id))
