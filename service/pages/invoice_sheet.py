"""An invoice as a reader sees it on the page and in the PDF: parties, lines, payment state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlmodel import Session

from ..api.context import now
from ..models import Invoice, InvoicePayment
from ..rules.invoice_exports import Paper, Party, paper_of, supplier_party, writing_date
from ..rules.payments import PaymentState, payment_state, payments_of
from ..rules.pricing import BillingTerms


@dataclass(frozen=True)
class Sheet:
    paper: Paper
    supplier: Party
    payment: PaymentState
    payments: list[InvoicePayment]
    written_on: date

    @property
    def invoice(self) -> Invoice:
        return self.paper.invoice


def billing_terms() -> BillingTerms:
    return BillingTerms.from_settings(current_app.config["SMARTFAB"])


def sheet_of(*, session: Session, invoice: Invoice) -> Sheet:
    """Everything shown of an invoice the reader may already see."""
    terms = billing_terms()
    return Sheet(
        paper=paper_of(session=session, terms=terms, invoice=invoice),
        supplier=supplier_party(current_app.config["SMARTFAB"].billing.supplier),
        payment=payment_state(session=session, now=now(), terms=terms, invoice=invoice),
        payments=payments_of(session=session, invoice_id=invoice.id or 0),
        written_on=writing_date(invoice, terms),
    )
