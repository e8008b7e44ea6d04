"""A month's invoices as files: the accounting ledger (CSV) and the e-tax invoice export.

CSV files start with a UTF-8 byte order mark, so Excel opens the Korean text as such.
The e-tax export carries the fields of 전자세금계산서 (the National Tax Service's bulk-issue
form): writing date, both parties' registration number, name, representative and address,
and each item's supply amount and tax.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from flask import Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from ..config import SupplierSettings
from ..models import InvoiceKind
from ..rules.accounts import Principal
from ..rules.invoice_exports import (
    Paper,
    Party,
    corrected_numbers,
    period_papers,
    quantity,
    supplier_party,
    writing_date,
)
from ..rules.payments import PaymentState, payment_states
from ..rules.pricing import BillingTerms

BOM = "\ufeff"

LEDGER_HEADER = (
    "invoice_number",
    "kind",
    "period",
    "issued_on",
    "due_on",
    "payment_state",
    "account_email",
    "account_name",
    "company",
    "business_number",
    "position",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "discount_percent",
    "supply_amount",
    "vat",
    "total",
)


def csv_download(text: str, name: str) -> Response:
    """A CSV file to save, UTF-8 (its BOM included)."""
    return Response(
        text.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# A text cell starting with one of these is a formula to a spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula is quoted; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return out.getvalue()


def ledger_csv(papers: list[Paper], states: dict[int, PaymentState], terms: BillingTerms) -> str:
    """One row per invoice line: what accounting books, supply and VAT apart."""
    rows = []
    for paper in papers:
        invoice = paper.invoice
        state = states[invoice.id or 0]
        firm = paper.invoice.company_id or (paper.account.company_id if paper.account else None)
        company = paper.customer.name if firm else ""
        for item in paper.lines:
            # A company's invoice: each line's member; otherwise the invoice's account.
            who = paper.account or paper.members.get(item.line.member_account_id or 0)
            count, unit = quantity(item.line)
            rows.append(
                (
                    invoice.number,
                    invoice.kind,
                    invoice.period,
                    invoice.issued_at.astimezone(terms.zone).date().isoformat(),
                    state.due_on.isoformat(),
                    state.state,
                    who.email if who else "",
                    who.name if who else "",
                    company,
                    paper.customer.business_number,
                    item.line.position,
                    item.line.description,
                    count,
                    unit,
                    item.line.unit_price,
                    item.line.discount_percent,
                    item.supply,
                    item.tax,
                    item.line.amount,
                )
            )
    return csv_text(LEDGER_HEADER, rows)


class PartyPublic(BaseModel):
    business_number: str = Field(description="사업자등록번호 (empty for a person)")
    name: str = Field(description="상호 (the person's name when billed personally)")
    representative: str = Field(description="성명 (대표자)")
    address: str = Field(description="사업장 주소")
    email: str


class TaxItem(BaseModel):
    day: date = Field(description="일자")
    name: str = Field(description="품목")
    spec: str = Field(description="규격: min or month")
    quantity: int = Field(description="수량")
    supply_amount: int = Field(description="공급가액 (won)")
    tax: int = Field(description="세액 (won)")
    note: str = Field(description="비고")


class TaxInvoice(BaseModel):
    invoice_number: str
    kind: str = Field(description="일반 (invoice) or 수정 (a credit note correcting one)")
    receipt: str = Field(description="영수 (paid) or 청구 (payment requested)")
    writing_date: date = Field(description="작성일자: the last day of the month billed")
    supplier: PartyPublic = Field(description="공급자")
    customer: PartyPublic = Field(description="공급받는자")
    supply_amount: int = Field(description="공급가액 합계")
    tax: int = Field(description="세액 합계")
    total: int = Field(description="합계금액")
    note: str = Field(description="비고")
    items: list[TaxItem]


def _party(party: Party) -> PartyPublic:
    return PartyPublic(
        business_number=party.business_number,
        name=party.name,
        representative=party.representative,
        address=party.address,
        email=party.email,
    )


def tax_invoices(
    papers: list[Paper],
    states: dict[int, PaymentState],
    supplier: Party,
    terms: BillingTerms,
    originals: dict[int, str],
) -> list[TaxInvoice]:
    """One 전자세금계산서 per invoice or credit note; `originals` names what a note corrects."""
    found = []
    for paper in papers:
        invoice = paper.invoice
        written = writing_date(invoice, terms)
        credit = invoice.kind == InvoiceKind.credit_note
        note = invoice.number
        if credit and invoice.corrects_id is not None:
            note = f"{invoice.number} ({originals.get(invoice.corrects_id, '')})"
        found.append(
            TaxInvoice(
                invoice_number=invoice.number,
                kind="수정" if credit else "일반",
                receipt="영수" if states[invoice.id or 0].is_paid else "청구",
                writing_date=written,
                supplier=_party(supplier),
                customer=_party(paper.customer),
                supply_amount=invoice.net,
                tax=invoice.vat,
                total=invoice.total,
                note=note,
                items=[
                    TaxItem(
                        day=written,
                        name=item.line.description,
                        spec=quantity(item.line)[1],
                        quantity=quantity(item.line)[0],
                        supply_amount=item.supply,
                        tax=item.tax,
                        note=invoice.period,
                    )
                    for item in paper.lines
                ],
            )
        )
    return found


ETAX_HEADER = (
    "세금계산서번호",
    "구분",
    "영수/청구",
    "작성일자",
    "공급자 등록번호",
    "공급자 상호",
    "공급자 성명",
    "공급자 사업장주소",
    "공급자 이메일",
    "공급받는자 등록번호",
    "공급받는자 상호",
    "공급받는자 성명",
    "공급받는자 사업장주소",
    "공급받는자 이메일",
    "공급가액 합계",
    "세액 합계",
    "합계금액",
    "비고",
    "품목 일자",
    "품목",
    "규격",
    "수량",
    "공급가액",
    "세액",
    "품목 비고",
)


def etax_csv(invoices: list[TaxInvoice]) -> str:
    """One row per item, the invoice's own fields repeated; dates as YYYYMMDD."""
    rows = []
    for doc in invoices:
        head = (
            doc.invoice_number,
            doc.kind,
            doc.receipt,
            doc.writing_date.strftime("%Y%m%d"),
            *_party_cells(doc.supplier),
            *_party_cells(doc.customer),
            doc.supply_amount,
            doc.tax,
            doc.total,
            doc.note,
        )
        for item in doc.items:
            rows.append(
                (
                    *head,
                    item.day.strftime("%Y%m%d"),
                    item.name,
                    item.spec,
                    item.quantity,
                    item.supply_amount,
                    item.tax,
                    item.note,
                )
            )
    return csv_text(ETAX_HEADER, rows)


def _party_cells(party: PartyPublic) -> tuple[str, ...]:
    return (party.business_number, party.name, party.representative, party.address, party.email)


def ledger_for(
    *, session: Session, now: datetime, actor: Principal, terms: BillingTerms, period: str
) -> str:
    """The accounting CSV of a month, as the actor may see it."""
    found = period_papers(session=session, actor=actor, terms=terms, period=period)
    states = payment_states(
        session=session, now=now, terms=terms, invoices=[p.invoice for p in found]
    )
    return ledger_csv(found, states, terms)


def tax_invoices_for(
    *,
    session: Session,
    now: datetime,
    actor: Principal,
    terms: BillingTerms,
    supplier: SupplierSettings,
    period: str,
) -> list[TaxInvoice]:
    """The month's 전자세금계산서 documents, as the actor may see them."""
    found = period_papers(session=session, actor=actor, terms=terms, period=period)
    invoices = [p.invoice for p in found]
    states = payment_states(session=session, now=now, terms=terms, invoices=invoices)
    originals = corrected_numbers(session=session, invoices=invoices)
    return tax_invoices(found, states, supplier_party(supplier), terms, originals)
