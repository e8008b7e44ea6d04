"""Whether an invoice is paid: its due date, the payments recorded against it, mark-paid.

Payments live in their own append-only table; an issued invoice is never touched. An
invoice is paid once its payments reach its total, and due `payment_due_days` after the
day it was issued at the site. A credit note owes nothing, nor does an invoice it cancels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import Session, col, select

from ..db import begin_write
from ..errors import Conflict, Forbidden, RuleViolation
from ..models import Invoice, InvoiceKind, InvoicePayment
from .accounts import Principal
from .audit import record
from .invoicing import get_invoice
from .pricing import BillingTerms


class PayState(StrEnum):
    paid = "paid"
    unpaid = "unpaid"  # not yet due
    overdue = "overdue"  # past its due date and not paid in full
    settled = "settled"  # a credit note, or an invoice a credit note cancels: nothing owed


@dataclass(frozen=True)
class PaymentState:
    due_on: date
    paid_won: int
    outstanding: int
    state: PayState

    @property
    def is_paid(self) -> bool:
        return self.state == PayState.paid


def due_on(*, invoice: Invoice, terms: BillingTerms) -> date:
    """The last day to pay: the issue day at the site plus the configured days."""
    issued = invoice.issued_at.astimezone(terms.zone).date()
    return issued + timedelta(days=terms.payment_due_days)


def payment_states(
    *, session: Session, now: datetime, terms: BillingTerms, invoices: Iterable[Invoice]
) -> dict[int, PaymentState]:
    """The payment state of each invoice by id, read in two queries whatever their number."""
    found = {i.id or 0: i for i in invoices}
    if not found:
        return {}
    ids = list(found)
    paid = dict(
        session.exec(
            select(InvoicePayment.invoice_id, func.sum(InvoicePayment.amount_won))
            .where(col(InvoicePayment.invoice_id).in_(ids))
            .group_by(col(InvoicePayment.invoice_id))
        ).all()
    )
    credited = set(
        session.exec(select(Invoice.corrects_id).where(col(Invoice.corrects_id).in_(ids))).all()
    )
    today = now.astimezone(terms.zone).date()
    states = {}
    for invoice_id, invoice in found.items():
        due = due_on(invoice=invoice, terms=terms)
        received = int(paid.get(invoice_id) or 0)
        if invoice.kind != InvoiceKind.invoice or invoice_id in credited:
            states[invoice_id] = PaymentState(due, received, 0, PayState.settled)
            continue
        outstanding = max(invoice.total - received, 0)
        if outstanding == 0:
            state = PayState.paid
        else:
            state = PayState.overdue if today > due else PayState.unpaid
        states[invoice_id] = PaymentState(due, received, outstanding, state)
    return states


def payment_state(
    *, session: Session, now: datetime, terms: BillingTerms, invoice: Invoice
) -> PaymentState:
    return payment_states(session=session, now=now, terms=terms, invoices=[invoice])[
        invoice.id or 0
    ]


def payments_of(*, session: Session, invoice_id: int) -> list[InvoicePayment]:
    return list(
        session.exec(
            select(InvoicePayment)
            .where(InvoicePayment.invoice_id == invoice_id)
            .order_by(col(InvoicePayment.paid_at), col(InvoicePayment.id))
        )
    )


def may_record(actor: Principal, state: PaymentState) -> bool:
    """Whether `actor` may mark this invoice paid now (staff, and something is owed)."""
    return actor.is_staff and state.outstanding > 0


def record_payment(
    *,
    session: Session,
    now: datetime,
    terms: BillingTerms,
    actor: Principal,
    invoice_id: int,
    amount_won: int | None = None,
    method: str = "bank_transfer",
    note: str = "",
    paid_at: datetime | None = None,
) -> InvoicePayment:
    """Record money received for an invoice (by default all that is still owed); audited.

    Staff who may see the invoice record it; a settled or fully paid invoice takes no more
    (409), and a payment above what is owed is refused (422).
    """
    if not actor.is_staff:
        raise Forbidden("only staff record payments")
    # Two clerks marking the same invoice paid queue here (the write lock on SQLite, the
    # invoice's row lock on PostgreSQL): the second sees the first's payment.
    begin_write(session)
    invoice = get_invoice(session=session, actor=actor, invoice_id=invoice_id)
    session.exec(select(Invoice.id).where(Invoice.id == invoice_id).with_for_update()).one()
    state = payment_state(session=session, now=now, terms=terms, invoice=invoice)
    if state.state == PayState.settled:
        raise Conflict(
            f"{invoice.number} is a credit note or cancelled by one: nothing is owed",
            code="nothing_to_pay",
        )
    if state.outstanding == 0:
        raise Conflict(f"{invoice.number} is paid already", code="already_paid")
    amount = state.outstanding if amount_won is None else amount_won
    if amount <= 0 or amount > state.outstanding:
        raise RuleViolation(
            f"a payment of {invoice.number} must be between 1 and {state.outstanding} won",
            details={"outstanding": state.outstanding, "amount_won": amount},
            code="payment_amount",
        )
    when = paid_at or now
    if when.tzinfo is None:
        raise RuleViolation("paid_at needs a time zone", code="naive_datetime")
    payment = InvoicePayment(
        invoice_id=invoice_id,
        paid_at=when,
        amount_won=amount,
        method=method,
        note=note,
        recorded_by=actor.id,
    )
    session.add(payment)
    session.flush()
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="invoice.payment",
        subject=f"invoice:{invoice_id}",
        number=invoice.number,
        amount_won=amount,
        method=method,
        outstanding=state.outstanding - amount,
    )
    return payment
