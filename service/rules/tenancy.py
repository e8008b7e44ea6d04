"""The room a rental contract keeps for its tenant.

During a contract the room is the tenant's (the account, or the company's people):
a booking by anyone else is refused (409 `rented`), as a blackout would refuse it,
and an operator's override does not waive it; the free time others are shown
leaves the contract's days out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_
from sqlmodel import Session, col, select

from ..errors import Conflict
from ..models import Account, RentalContract, Resource, Site
from .intervals import Interval, merge, subtract


def day_span(start: date, end: date | None, zone: ZoneInfo) -> tuple[datetime, datetime | None]:
    """The contract's days as [from, to) in time; to is None while open-ended."""
    begin = datetime.combine(start, time(0), tzinfo=zone)
    if end is None:
        return begin, None
    return begin, datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone)


def is_tenant(contract: RentalContract, account: Account | None) -> bool:
    if account is None:
        return False
    if contract.account_id is not None:
        return contract.account_id == account.id
    return account.company_id is not None and account.company_id == contract.company_id


def contracts_over(
    *, session: Session, resource_id: int, zone: ZoneInfo, start: datetime, end: datetime
) -> list[RentalContract]:
    """The room's contracts whose days meet [start, end)."""
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return list(
        session.exec(
            select(RentalContract).where(
                RentalContract.resource_id == resource_id,
                col(RentalContract.start_date) <= last,
                or_(
                    col(RentalContract.end_date).is_(None),
                    col(RentalContract.end_date) >= first,
                ),
            )
        )
    )


def check_tenancy(
    *,
    session: Session,
    resource: Resource,
    site: Site,
    account_id: int,
    start: datetime,
    end: datetime,
) -> None:
    """Raise 409 `rented` if [start, end) falls in a contract of someone else's."""
    if resource.id is None:
        return
    account = session.get(Account, account_id)
    for contract in contracts_over(
        session=session, resource_id=resource.id, zone=site.zone, start=start, end=end
    ):
        if not is_tenant(contract, account):
            begin, until = day_span(contract.start_date, contract.end_date, site.zone)
            raise Conflict(
                f"{resource.name} is rented out from {contract.start_date.isoformat()}",
                {
                    "rental_contract_id": contract.id,
                    "start": begin.isoformat(),
                    "end": until.isoformat() if until else None,
                },
                code="rented",
            )


def let_to_others(
    *,
    session: Session,
    resources: Sequence[tuple[Resource, Site]],
    account_id: int | None,
    start: datetime,
    end: datetime,
) -> dict[int, list[Interval]]:
    """Per room, the days in [start, end) let to a tenant the account is not one of."""
    rooms = {r.id: s for r, s in resources if r.id is not None}
    if not rooms:
        return {}
    account = session.get(Account, account_id) if account_id is not None else None
    first = min(start.astimezone(s.zone).date() for s in rooms.values()) - timedelta(days=1)
    last = max(end.astimezone(s.zone).date() for s in rooms.values()) + timedelta(days=1)
    contracts = session.exec(
        select(RentalContract).where(
            col(RentalContract.resource_id).in_(list(rooms)),
            col(RentalContract.start_date) <= last,
            or_(col(RentalContract.end_date).is_(None), col(RentalContract.end_date) >= first),
        )
    )
    found: dict[int, list[Interval]] = {}
    for contract in contracts:
        if is_tenant(contract, account):
            continue
        begin, until = day_span(
            contract.start_date, contract.end_date, rooms[contract.resource_id].zone
        )
        found.setdefault(contract.resource_id, []).append(
            Interval(begin, until or max(end, begin) + timedelta(days=1))
        )
    return {rid: merge(spans) for rid, spans in found.items()}


def closed_to(
    *,
    session: Session,
    free: dict[int, list[Interval]],
    resources: Sequence[tuple[Resource, Site]],
    account_id: int | None,
    start: datetime,
    end: datetime,
) -> dict[int, list[Interval]]:
    """`free` without the days of contracts whose tenant the account is not."""
    rooms = [(r, s) for r, s in resources if r.id is not None and free.get(r.id)]
    if not rooms:
        return free
    let = let_to_others(
        session=session, resources=rooms, account_id=account_id, start=start, end=end
    )
    return {rid: subtract(spans, let[rid]) if rid in let else spans for rid, spans in free.items()}
