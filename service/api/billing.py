"""Invoices and credit notes: list, read, issue a closed month, credit, invoice again."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, current_app, jsonify
from pydantic import BaseModel, Field, TypeAdapter

from ..db import get_session
from ..errors import Forbidden
from ..models import Company, Invoice, InvoiceKind, InvoiceLine, LineBasis
from ..models.types import Id
from ..rules.credit_notes import credit_invoice, reissue_invoice
from ..rules.invoicing import (
    get_invoice,
    invoice_lines,
    issue_invoices,
    list_invoices,
)
from ..rules.payers import sections
from ..rules.pricing import PERIOD_PATTERN, BillingTerms
from ..rules.reconcile import reconcile as reconcile_month
from .context import current_principal, now
from .openapi import operation
from .schemas import Strict

bp = Blueprint("billing", __name__, url_prefix="/api/v1/invoices")

ONE = "/<int:invoice_id>"


class InvoiceQuery(Strict):
    period: str | None = Field(default=None, pattern=PERIOD_PATTERN, description="YYYY-MM")
    account: Id | None = Field(default=None, description="account id (operators, admins)")
    company: Id | None = Field(default=None, description="company id: a company's invoices")
    kind: InvoiceKind | None = None


class IssueQuery(Strict):
    period: str = Field(pattern=PERIOD_PATTERN, description="a month that has ended, YYYY-MM")


class ReconcileQuery(Strict):
    period: str = Field(pattern=PERIOD_PATTERN, description="an issued month, YYYY-MM")


class ReconcileItem(BaseModel):
    account_id: int | None = Field(description="the paying account; None: a company pays")
    company_id: int | None = Field(default=None, description="the paying company, if any")
    source: str = Field(description="reservation, usage_session or resource (a monthly room)")
    source_id: int
    resource_id: int | None
    billed_today: int = Field(description="won the rules bill for it today, VAT included")
    invoiced: int = Field(description="won invoiced for it, net of credits, with adjustments")
    credited: bool = Field(description="a credit note touched it: left to re-issue")
    difference: int = Field(description="won the account's next invoice adjusts")


class ReconcilePublic(BaseModel):
    period: str
    billed_today: int
    invoiced: int
    difference: int
    items: list[ReconcileItem]


class CreditNoteRequest(Strict):
    reason: str = Field(min_length=3, max_length=500)
    line_ids: list[Id] | None = Field(
        default=None, min_length=1, description="lines to cancel; all of them if left out"
    )


class InvoiceLinePublic(BaseModel):
    id: int
    position: int
    basis: LineBasis
    description: str
    resource_id: int | None
    reservation_id: int | None
    usage_session_id: int | None
    quantity_minutes: int
    unit_price: int = Field(description="won per hour (per month for monthly fees), VAT incl.")
    discount_percent: int
    amount: int = Field(description="won, VAT included; negative on credit notes")
    credits_line_id: int | None = Field(description="on a credit note: the line it cancels")
    member_account_id: int | None = Field(
        description="on a company's invoice: the member whose section the line is in"
    )


class InvoicePublic(BaseModel):
    id: int
    number: str
    account_id: int | None = Field(description="the paying account, or")
    company_id: int | None = Field(description="the paying company")
    period: str
    kind: InvoiceKind
    corrects_id: int | None = Field(description="on a credit note: the invoice it corrects")
    replaces_id: int | None = Field(description="the credited invoice this one replaces")
    reason: str
    issued_at: datetime
    currency: str
    total: int = Field(description="won, VAT included")
    vat: int
    net: int


class CompanyOnInvoice(BaseModel):
    """The paying company as its invoices name it."""

    id: int
    name: str
    business_number: str = Field(description="사업자등록번호")
    representative: str


class SectionPublic(BaseModel):
    member_account_id: int | None = Field(description="none: the company's own lines")
    member_name: str
    total: int


class InvoiceDetail(InvoicePublic):
    company: CompanyOnInvoice | None = Field(description="the paying company, if a company pays")
    sections: list[SectionPublic] = Field(description="a company invoice's lines by member")
    lines: list[InvoiceLinePublic]


def _public(invoice: Invoice) -> InvoicePublic:
    return InvoicePublic.model_validate(invoice, from_attributes=True)


def _detail(invoice: Invoice, lines: list[InvoiceLine]) -> InvoiceDetail:
    session = get_session()
    company = session.get(Company, invoice.company_id) if invoice.company_id else None
    return InvoiceDetail(
        **_public(invoice).model_dump(),
        company=(
            CompanyOnInvoice.model_validate(company, from_attributes=True) if company else None
        ),
        sections=(
            [
                SectionPublic.model_validate(section, from_attributes=True)
                for section in sections(session=session, lines=lines)
            ]
            if company
            else []
        ),
        lines=[InvoiceLinePublic.model_validate(line, from_attributes=True) for line in lines],
    )


def _terms() -> BillingTerms:
    return BillingTerms.from_settings(current_app.config["SMARTFAB"])


def _admin_only(what: str) -> int:
    actor = current_principal()
    if not actor.admin:
        raise Forbidden(f"only an administrator {what}")
    return actor.id


@operation(
    bp,
    "",
    "GET",
    summary="Invoices and credit notes the caller may see",
    query=InvoiceQuery,
    response=list[InvoicePublic],
    errors=(403,),
)
def list_(query: InvoiceQuery) -> list[InvoicePublic]:
    found = list_invoices(
        session=get_session(),
        actor=current_principal(),
        period=query.period,
        account_id=query.account,
        company_id=query.company,
        kind=query.kind,
    )
    return [_public(i) for i in found]


@operation(
    bp, ONE, "GET", summary="An invoice with its lines", response=InvoiceDetail, errors=(404,)
)
def read(invoice_id: int) -> InvoiceDetail:
    session = get_session()
    invoice = get_invoice(session=session, actor=current_principal(), invoice_id=invoice_id)
    return _detail(invoice, invoice_lines(session=session, invoice_id=invoice_id))


@operation(
    bp,
    "/issue",
    "POST",
    summary=(
        "Invoice a month that has ended (201 with new invoices; 200 if none was due;"
        " 409 month_open while runs started in it are open within the grace period)"
    ),
    query=IssueQuery,
    response=list[InvoicePublic],
    status=201,
    errors=(403, 409),
    also=(200,),
)
def issue(query: IssueQuery) -> list[InvoicePublic] | Response:
    actor_id = _admin_only("issues invoices")
    done = issue_invoices(
        session=get_session(), now=now(), terms=_terms(), period=query.period, actor_id=actor_id
    )
    if done.created:
        return [_public(i) for i in done.created]
    existing = [_public(i) for i in done.existing]
    return jsonify(TypeAdapter(list[InvoicePublic]).dump_python(existing, mode="json"))


@operation(
    bp,
    "/reconcile",
    "GET",
    summary="An issued month: what was invoiced against what the rules bill today",
    query=ReconcileQuery,
    response=ReconcilePublic,
    errors=(403, 409),
)
def reconcile(query: ReconcileQuery) -> ReconcilePublic:
    report = reconcile_month(
        session=get_session(), terms=_terms(), actor=current_principal(), period=query.period
    )
    return ReconcilePublic(
        period=report.period,
        billed_today=report.billed_today,
        invoiced=report.invoiced,
        difference=report.difference,
        items=[
            ReconcileItem(
                account_id=row.account_id,
                company_id=row.company_id,
                source=row.source,
                source_id=row.source_id,
                resource_id=row.resource_id,
                billed_today=row.billed_today,
                invoiced=row.invoiced,
                credited=row.credited,
                difference=row.difference,
            )
            for row in report.items
        ],
    )


@operation(
    bp,
    ONE + "/credit",
    "POST",
    summary="Correct an invoice with a credit note for all or chosen lines (once per invoice)",
    body=CreditNoteRequest,
    response=InvoiceDetail,
    status=201,
    errors=(403, 404, 409, 422),
)
def credit(invoice_id: int, body: CreditNoteRequest) -> InvoiceDetail:
    actor_id = _admin_only("issues credit notes")
    session = get_session()
    note = credit_invoice(
        session=session,
        now=now(),
        terms=_terms(),
        invoice_id=invoice_id,
        actor_id=actor_id,
        reason=body.reason,
        line_ids=body.line_ids,
    )
    assert note.id is not None  # noqa: S101 - a stored invoice has its id
    return _detail(note, invoice_lines(session=session, invoice_id=note.id))


@operation(
    bp,
    ONE + "/reissue",
    "POST",
    summary="Invoice a credited invoice's month again, with a new number",
    response=InvoiceDetail,
    status=201,
    errors=(403, 404, 409, 422),
)
def reissue(invoice_id: int) -> InvoiceDetail:
    actor_id = _admin_only("issues invoices")
    session = get_session()
    invoice = reissue_invoice(
        session=session, now=now(), terms=_terms(), invoice_id=invoice_id, actor_id=actor_id
    )
    assert invoice.id is not None  # noqa: S101 - a stored invoice has its id
    return _detail(invoice, invoice_lines(session=session, invoice_id=invoice.id))
