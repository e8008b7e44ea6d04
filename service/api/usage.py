"""Usage sessions: what each machine really ran, from telemetry."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from pydantic import BaseModel, Field

from ..db import get_session
from ..models import UsageSession
from ..models.types import Id, Moment
from ..rules.usage import list_usage
from .context import current_principal
from .openapi import operation
from .schemas import Strict

bp = Blueprint("usage", __name__, url_prefix="/api/v1")


class UsageQuery(Strict):
    account: Id | None = Field(default=None, description="account id (operators, admins)")
    from_: Moment | None = Field(default=None, alias="from")
    to: Moment | None = None


class UsageSessionPublic(BaseModel):
    id: int
    resource_id: int
    reservation_id: int | None
    account_id: int | None
    walk_in: bool
    unauthorised: bool
    start: datetime
    end: datetime | None
    run_seconds: int
    energy_wh: float


def _public(row: UsageSession) -> UsageSessionPublic:
    return UsageSessionPublic(
        id=row.id or 0,
        resource_id=row.resource_id,
        reservation_id=row.reservation_id,
        account_id=row.account_id,
        walk_in=row.walk_in,
        unauthorised=row.unauthorised,
        start=row.start_at,
        end=row.end_at,
        run_seconds=row.run_seconds,
        energy_wh=row.energy_wh,
    )


@operation(
    bp,
    "/usage",
    "GET",
    summary="Usage sessions (actual run time and energy) the caller may see",
    query=UsageQuery,
    response=list[UsageSessionPublic],
    errors=(403,),
)
def usage(query: UsageQuery) -> list[UsageSessionPublic]:
    rows = list_usage(
        session=get_session(),
        actor=current_principal(),
        account_id=query.account,
        start=query.from_,
        end=query.to,
    )
    return [_public(r) for r in rows]
