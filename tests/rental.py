"""Helpers of the rental and company-billing tests: companies, members, contracts."""

from __future__ import annotations

from datetime import UTC, date, datetime

from service.models import Account, Company, RentalContract


def company(session, name="성수가죽공방", number="123-45-67890", rep="김성수") -> Company:
    firm = Company(name=name, business_number=number, representative=rep)
    session.add(firm)
    session.commit()
    return firm


def join(session, world, who: str, firm: Company, *, bills: bool = True) -> Account:
    """Make `who` a member of `firm`, billing to it unless told otherwise."""
    account = session.get(Account, world.id(who))
    account.company_id, account.bills_to_company = firm.id, bills
    session.add(account)
    session.commit()
    return account


def contract(
    session,
    world,
    start: str,
    end: str | None = None,
    fee: int = 900_000,
    *,
    room: str = "room",
    firm: Company | None = None,
    who: str | None = None,
) -> RentalContract:
    """A contract of `room` from `start` to `end` (ISO days, inclusive), to a firm or a person."""
    row = RentalContract(
        resource_id=world.id(room),
        company_id=firm.id if firm is not None else None,
        account_id=world.id(who) if who is not None else None,
        start_date=date.fromisoformat(start),
        end_date=date.fromisoformat(end) if end else None,
        monthly_fee=fee,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    session.add(row)
    session.commit()
    return row
