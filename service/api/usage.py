"""Usage sessions: what each machine really ran, from telemetry."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from pydantic import Field

from ..db import get_session
from ..models.types import Id, Moment
from ..rules.usage import list_usage
from .context import current_principal
from .openapi import operation
from .schemas import FromRow, Strict

bp = Blueprint("usage", __name__, url_prefix="/api/v1")


class UsageQuery(Strict):
    account: Id | None = Field(default=None, description="account id (operators, admins)")
    from_: Moment | None = Field(default=None, alias="from")
    to: Moment | None = None


class UsageSessionPublic(FromRow):
    id: int
    resource_id: int
    reservation_id: int | None
    account_id: int | None
    walk_in: bool
    unauthorised: bool
    start_at: datetime = Field(alias="start")
    end_at: datetime | None = Field(alias="end")
    run_seconds: int
    energy_wh: float


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
    return [UsageSessionPublic.model_validate(r) for r in rows]
