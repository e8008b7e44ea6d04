"""Rental contracts: the rent they bill each month (the room they keep: tenancy.py).

Rent for month M is the monthly fee × the contract's days in M / the days of M,
rounded once, half up, to whole won (`pricing.round_half_up`, the project's one
rounding rule), whether or not the tenant books the room.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, select

from ..models import Account, LineBasis, RentalContract, Resource
from .billing import LineDraft
from .pricing import Period, round_half_up


@dataclass(frozen=True)
class Payer:
    """Who an invoice goes to: one account or one company."""

    account_id: int | None = None
    company_id: int | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.company_id or 0, self.account_id or 0)


@dataclass(frozen=True)
class Rent:
    days: int  # the contract's days in the month
    month_days: int
    amount: int


def contract_days(contract: RentalContract, first: date, last: date) -> int:
    """How many days of [first, last] (both inclusive) the contract covers."""
    start = max(contract.start_date, first)
    end = min(contract.end_date or last, last)
    return max((end - start).days + 1, 0)


def rent_for(contract: RentalContract, period: Period) -> Rent:
    """The contract's rent for a month, prorated by day."""
    first = period.start.date()
    last = period.end.date() - timedelta(days=1)
    month_days = (last - first).days + 1
    days = contract_days(contract, first, last)
    return Rent(days, month_days, round_half_up(contract.monthly_fee * days, month_days))


def rent_lines(*, session: Session, period: Period) -> Iterable[tuple[Payer, LineDraft]]:
    """One rent line per contract running in the month, to whoever pays for its tenant."""
    first, last = period.start.date(), period.end.date() - timedelta(days=1)
    rows = session.exec(
        select(RentalContract, Resource)
        .join(Resource, col(Resource.id) == col(RentalContract.resource_id))
        .where(
            col(RentalContract.start_date) <= last,
            or_(col(RentalContract.end_date).is_(None), col(RentalContract.end_date) >= first),
        )
        .order_by(col(RentalContract.id))
    )
    for contract, room in rows:
        rent = rent_for(contract, period)
        if not rent.amount:
            continue
        name = f"{room.name} / {room.name_en}" if room.name_en else room.name
        start = max(contract.start_date, first)
        line = LineDraft(
            basis=LineBasis.rent,
            description=(
                f"{name} · {period.name} 임대료 {rent.days}/{rent.month_days}일 "
                f"/ rent, {rent.days} of {rent.month_days} days"
            ),
            unit_price=contract.monthly_fee,
            amount=rent.amount,
            at=max(period.start, datetime.combine(start, time(0), tzinfo=period.start.tzinfo)),
            resource_id=room.id,
        )
        payer = _payer_of(session, contract)
        # A member's own contract billed to their company goes in that member's section.
        member = contract.account_id if payer.company_id is not None else None
        yield payer, replace(line, member_account_id=member)


def _payer_of(session: Session, contract: RentalContract) -> Payer:
    if contract.company_id is not None:
        return Payer(company_id=contract.company_id)
    account = session.get(Account, contract.account_id)
    if account is not None and account.bills_to_company and account.company_id is not None:
        return Payer(company_id=account.company_id)
    return Payer(account_id=contract.account_id)
