"""Invoices for people and accounting: payments (mark paid), the ledger CSV, the e-tax export."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import Blueprint, Response, current_app
from pydantic import BaseModel, Field

from ..db import get_session
from ..models import Invoice
from ..models.types import Moment
from ..rules.invoicing import get_invoice
from ..rules.payments import PayState, payment_state, payments_of, record_payment
from ..rules.pricing import PERIOD_PATTERN, BillingTerms
from .context import current_principal, now
from .invoice_files import TaxInvoice, csv_download, etax_csv, ledger_for, tax_invoices_for
from .openapi import operation
from .schemas import Strict

bp = Blueprint("invoice_docs", __name__, url_prefix="/api/v1/invoices")


class PeriodQuery(Strict):
    period: str = Field(pattern=PERIOD_PATTERN, description="the month billed, YYYY-MM")


class PaymentRequest(Strict):
    amount_won: int | None = Field(
        default=None, ge=1, le=10**12, description="default: everything still owed"
    )
    method: Literal["bank_transfer", "card", "cash", "other"] = "bank_transfer"
    note: str = Field(default="", max_length=500)
    paid_at: Moment | None = Field(default=None, description="default: now")


class PaymentPublic(BaseModel):
    id: int
    invoice_id: int
    paid_at: datetime
    amount_won: int
    method: str
    note: str
    recorded_by: int | None


class PaymentStatePublic(BaseModel):
    invoice_id: int
    due_on: str = Field(description="YYYY-MM-DD, the last day to pay (site time)")
    paid_won: int
    outstanding: int
    state: PayState
    payments: list[PaymentPublic]


def _terms() -> BillingTerms:
    return BillingTerms.from_settings(current_app.config["SMARTFAB"])


def _state(invoice: Invoice) -> PaymentStatePublic:
    session = get_session()
    state = payment_state(session=session, now=now(), terms=_terms(), invoice=invoice)
    return PaymentStatePublic(
        invoice_id=invoice.id or 0,
        due_on=state.due_on.isoformat(),
        paid_won=state.paid_won,
        outstanding=state.outstanding,
        state=state.state,
        payments=[
            PaymentPublic.model_validate(p, from_attributes=True)
            for p in payments_of(session=session, invoice_id=invoice.id or 0)
        ],
    )


@operation(
    bp,
    "/<int:invoice_id>/payments",
    "GET",
    summary="Due date, payments and whether an invoice is paid",
    response=PaymentStatePublic,
    errors=(404,),
)
def payment_status(invoice_id: int) -> PaymentStatePublic:
    invoice = get_invoice(session=get_session(), actor=current_principal(), invoice_id=invoice_id)
    return _state(invoice)


@operation(
    bp,
    "/<int:invoice_id>/payments",
    "POST",
    summary="Record a payment (staff; by default all that is owed: mark paid)",
    body=PaymentRequest,
    response=PaymentStatePublic,
    status=201,
    errors=(403, 404, 409, 422),
)
def add_payment(invoice_id: int, body: PaymentRequest) -> PaymentStatePublic:
    session = get_session()
    record_payment(
        session=session,
        now=now(),
        terms=_terms(),
        actor=current_principal(),
        invoice_id=invoice_id,
        amount_won=body.amount_won,
        method=body.method,
        note=body.note,
        paid_at=body.paid_at,
    )
    invoice = get_invoice(session=session, actor=current_principal(), invoice_id=invoice_id)
    return _state(invoice)


@operation(
    bp,
    "/export.csv",
    "GET",
    summary="A month's invoice lines for accounting (staff): CSV, UTF-8 with BOM",
    query=PeriodQuery,
    errors=(403, 422),
)
def export_csv(query: PeriodQuery) -> Response:
    text = ledger_for(
        session=get_session(),
        now=now(),
        actor=current_principal(),
        terms=_terms(),
        period=query.period,
    )
    return csv_download(text, f"invoices-{query.period}.csv")


def _tax_invoices(period: str) -> list[TaxInvoice]:
    return tax_invoices_for(
        session=get_session(),
        now=now(),
        actor=current_principal(),
        terms=_terms(),
        supplier=current_app.config["SMARTFAB"].billing.supplier,
        period=period,
    )


@operation(
    bp,
    "/etax.json",
    "GET",
    summary="A month's 전자세금계산서 fields, one document per invoice (staff)",
    query=PeriodQuery,
    response=list[TaxInvoice],
    errors=(403, 422),
)
def etax_json(query: PeriodQuery) -> list[TaxInvoice]:
    return _tax_invoices(query.period)


@operation(
    bp,
    "/etax.csv",
    "GET",
    summary="A month's 전자세금계산서 fields, one row per item (staff): CSV, UTF-8 with BOM",
    query=PeriodQuery,
    errors=(403, 422),
)
def etax_csv_file(query: PeriodQuery) -> Response:
    return csv_download(etax_csv(_tax_invoices(query.period)), f"etax-{query.period}.csv")
