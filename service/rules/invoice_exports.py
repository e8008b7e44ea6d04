"""What accounting and the electronic tax invoice (전자세금계산서) need from a month's invoices.

Line amounts include VAT. Each line's supply amount (공급가액) and tax (세액) come from the
same split as the invoice's (VAT = amount × rate / (1 + rate), half up); the few won that
rounding line by line leaves against the invoice's own VAT go to its largest lines, so the
lines always add up to the invoice's net and VAT exactly.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from ..config import SupplierSettings
from ..errors import Forbidden
from ..models import Account, Company, Invoice, InvoiceKind, InvoiceLine, LineBasis
from .accounts import Principal
from .invoicing import visible_invoices
from .pricing import BillingTerms, parse_period, vat_split

TIMED = frozenset({LineBasis.run_time, LineBasis.booked_time, LineBasis.no_show})


@dataclass(frozen=True)
class LineTax:
    line: InvoiceLine
    supply: int
    tax: int


@dataclass(frozen=True)
class Party:
    """공급자 or 공급받는자: who sells or buys, as a tax invoice names them."""

    business_number: str
    name: str
    representative: str
    address: str
    email: str = ""


@dataclass(frozen=True)
class Paper:
    """An invoice with its lines split into supply and tax, and the customer it names."""

    invoice: Invoice
    lines: list[LineTax]
    account: Account | None  # None: a company pays (invoice.company_id)
    customer: Party
    # On a company's invoice: the members its lines are tagged with, by id.
    members: dict[int, Account] = field(default_factory=dict)


def split_lines(invoice: Invoice, lines: list[InvoiceLine], terms: BillingTerms) -> list[LineTax]:
    """Each line's (supply, tax), adding up exactly to the invoice's net and VAT."""
    taxes = [vat_split(line.amount, terms.vat_rate)[0] for line in lines]
    gap = invoice.vat - sum(taxes)
    # The largest lines (by size, then position) absorb the rounding, one won each.
    order = sorted(range(len(lines)), key=lambda i: (-abs(lines[i].amount), lines[i].position))
    step = 1 if gap > 0 else -1
    for i in order[: abs(gap)]:
        taxes[i] += step
    return [LineTax(line, line.amount - tax, tax) for line, tax in zip(lines, taxes, strict=True)]


def supplier_party(supplier: SupplierSettings) -> Party:
    return Party(
        supplier.business_number,
        supplier.name,
        supplier.representative,
        supplier.address,
        supplier.email,
    )


def customer_party(account: Account | None, company: Company | None) -> Party:
    """The paying company (or the account's); a person without one is billed by name."""
    if company is None:
        assert account is not None  # noqa: S101 - an invoice has one payer
        return Party("", account.name, account.name, "", account.email)
    return Party(
        company.business_number,
        company.name,
        company.representative,
        company.address,
        # The company's own address for invoices; else the member's the lines are for.
        company.email or (account.email if account is not None else ""),
    )


def writing_date(invoice: Invoice, terms: BillingTerms) -> date:
    """작성일자: the last day of the month billed; a credit note's is its own issue day."""
    if invoice.kind == InvoiceKind.credit_note:
        return invoice.issued_at.astimezone(terms.zone).date()
    start = parse_period(invoice.period, terms.zone).start
    return date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])


def period_papers(
    *, session: Session, actor: Principal, terms: BillingTerms, period: str
) -> list[Paper]:
    """The invoices and credit notes of `period` that staff may see, with split lines."""
    if not actor.is_staff:
        raise Forbidden("invoice exports are for operators and admins")
    parse_period(period, terms.zone)
    query = visible_invoices(actor).where(col(Invoice.period) == period)
    return _papers(session, terms, list(session.exec(query.order_by(col(Invoice.id)))))


def paper_of(*, session: Session, terms: BillingTerms, invoice: Invoice) -> Paper:
    """One invoice the caller has already been allowed to read, with split lines."""
    return _papers(session, terms, [invoice])[0]


def _papers(session: Session, terms: BillingTerms, found: list[Invoice]) -> list[Paper]:
    if not found:
        return []
    ids = [i.id for i in found]
    by_invoice: dict[int, list[InvoiceLine]] = {}
    for line in session.exec(
        select(InvoiceLine)
        .where(col(InvoiceLine.invoice_id).in_(ids))
        .order_by(col(InvoiceLine.invoice_id), col(InvoiceLine.position))
    ):
        by_invoice.setdefault(line.invoice_id, []).append(line)
    people = {i.account_id for i in found} | {
        line.member_account_id for lines in by_invoice.values() for line in lines
    }
    accounts = {
        a.id: a for a in session.exec(select(Account).where(col(Account.id).in_(people - {None})))
    }
    company_ids = {a.company_id for a in accounts.values() if a.company_id is not None} | {
        i.company_id for i in found if i.company_id is not None
    }
    companies = {
        c.id: c for c in session.exec(select(Company).where(col(Company.id).in_(company_ids)))
    }
    result = []
    for invoice in found:
        lines = by_invoice.get(invoice.id or 0, [])
        account = accounts.get(invoice.account_id) if invoice.account_id else None
        # The payer names the customer: the company an invoice is made out to, else the
        # account's company, else the person.
        firm = invoice.company_id or (account.company_id if account else None)
        company = companies.get(firm) if firm else None
        members = {
            member: accounts[member]
            for member in {line.member_account_id for line in lines}
            if member is not None and member in accounts
        }
        result.append(
            Paper(
                invoice,
                split_lines(invoice, lines, terms),
                account,
                customer_party(account, company),
                members,
            )
        )
    return result


def corrected_numbers(*, session: Session, invoices: list[Invoice]) -> dict[int, str]:
    """The numbers of the invoices that the given credit notes correct, by invoice id."""
    wanted = {i.corrects_id for i in invoices if i.corrects_id is not None}
    if not wanted:
        return {}
    rows = session.exec(select(Invoice.id, Invoice.number).where(col(Invoice.id).in_(wanted)))
    return {invoice_id or 0: number for invoice_id, number in rows}


def quantity(line: InvoiceLine) -> tuple[int, str]:
    """How much of what: minutes for time, one month for monthly fees."""
    if line.basis in TIMED:
        return line.quantity_minutes, "min"
    return 1, "month"
