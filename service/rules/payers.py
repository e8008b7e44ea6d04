"""Who pays each line of a month: the account, or the company it bills to.

An account with `bills_to_company` set has its lines put on its company's invoice,
each tagged with the account (`member_account_id`), so the invoice shows a section
per member; rental contracts add their rent to the tenant's payer (rental.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from sqlmodel import Session, col, select

from ..models import Account, Company, Invoice, InvoiceLine
from .accounts import account_names
from .billing import LineDraft, draft_lines
from .pricing import BillingTerms, Period
from .rental import Payer, rent_lines


def company_of_members(session: Session) -> dict[int, int]:
    """account id -> company id, for the accounts that bill to their company."""
    rows = session.exec(
        select(Account.id, Account.company_id).where(
            col(Account.bills_to_company).is_(True), col(Account.company_id).is_not(None)
        )
    )
    return {account_id: company_id for account_id, company_id in rows if account_id and company_id}


def payer_lines(
    *, session: Session, period: Period, terms: BillingTerms
) -> dict[Payer, list[LineDraft]]:
    """Every payer's lines for `period`: a company's by member (its own first), then time."""
    companies = company_of_members(session)
    found: dict[Payer, list[LineDraft]] = defaultdict(list)
    for account_id, lines in draft_lines(session=session, period=period, terms=terms).items():
        company_id = companies.get(account_id)
        if company_id is None:
            found[Payer(account_id=account_id)].extend(lines)
        else:
            found[Payer(company_id=company_id)].extend(
                replace(line, member_account_id=account_id) for line in lines
            )
    for payer, line in rent_lines(session=session, period=period):
        found[payer].append(line)
    return {
        payer: sorted(lines, key=lambda line: (line.member_account_id or 0, line.at))
        for payer, lines in sorted(found.items(), key=lambda item: item[0].key)
        if lines
    }


@dataclass(frozen=True)
class Section:
    """The lines of one member on a company's invoice (member None: the company's own)."""

    member_account_id: int | None
    member_name: str
    total: int
    lines: tuple[InvoiceLine, ...]


def sections(*, session: Session, lines: list[InvoiceLine]) -> list[Section]:
    """A company invoice's sections, in the order of its lines, each with its total."""
    grouped: dict[int | None, list[InvoiceLine]] = defaultdict(list)
    for line in lines:
        grouped[line.member_account_id].append(line)
    names = account_names(session=session, account_ids={m for m in grouped if m is not None})
    return [
        Section(m, names.get(m, "") if m else "", sum(x.amount for x in found), tuple(found))
        for m, found in grouped.items()
    ]


def payer_names(*, session: Session, invoices: list[Invoice]) -> dict[int, str]:
    """invoice id -> the name of who pays it: the company's, or the account's."""
    people = account_names(
        session=session, account_ids={i.account_id for i in invoices if i.account_id is not None}
    )
    firms = {
        firm.id: firm.name
        for firm in session.exec(
            select(Company).where(
                col(Company.id).in_({i.company_id for i in invoices if i.company_id is not None})
            )
        )
    }
    return {
        i.id or 0: firms.get(i.company_id, "")
        if i.company_id
        else people.get(i.account_id or 0, "")
        for i in invoices
    }
