"""Correcting an issued invoice: a credit note for all or some of its lines, then re-issue.

A credit note is its own numbered document (kind `credit_note`) that names the
invoice it corrects and a reason; each of its lines cancels one line of that
invoice, amount negated. An invoice has at most one credit note. Once credited,
the account's month can be invoiced again, explicitly: the new invoice replaces
the credited one and bills what the rules bill today that no line still standing
in that month covers (all of it after a full credit, the credited lines after a
partial one). Issuing the month again never does this on its own, so a credit
given as a goodwill gesture stays given.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..errors import Conflict, NotFound, RuleViolation
from ..models import Invoice, InvoiceKind, InvoiceLine, LineBasis
from .audit import record
from .billing import LineDraft
from .invoicing import (
    invoice_lines,
    issue_for_account,
    line_from,
    write_issued,
)
from .numbering import lock_numbering, next_number
from .payers import payer_lines
from .pricing import BillingTerms, parse_period
from .rental import Payer

# What a line bills: the same key on an invoice and its credit note cancel out.
LineKey = tuple[LineBasis, int | None, int | None, int | None]


def _key(line: LineDraft | InvoiceLine) -> LineKey:
    return (
        LineBasis(line.basis),
        line.resource_id,
        line.reservation_id,
        line.usage_session_id,
    )


def _invoice(session: Session, invoice_id: int) -> Invoice:
    found = session.get(Invoice, invoice_id)
    if found is None:
        raise NotFound(f"no invoice {invoice_id}")
    if found.kind != InvoiceKind.invoice:
        raise RuleViolation(f"{found.number} is a credit note itself", code="not_an_invoice")
    return found


def _chosen(lines: list[InvoiceLine], line_ids: list[int] | None, number: str) -> list[InvoiceLine]:
    if line_ids is None:
        return lines
    unknown = sorted(set(line_ids) - {line.id for line in lines})
    if unknown or not line_ids:
        raise RuleViolation(
            f"choose one or more lines of {number}",
            details={"unknown_line_ids": unknown},
            code="unknown_line",
        )
    return [line for line in lines if line.id in set(line_ids)]


def credit_invoice(
    *,
    session: Session,
    now: datetime,
    terms: BillingTerms,
    invoice_id: int,
    actor_id: int | None,
    reason: str,
    line_ids: list[int] | None = None,
) -> Invoice:
    """A credit note cancelling the whole invoice, or only the chosen lines of it; once."""
    original = _invoice(session, invoice_id)  # immutable: safe to read before the lock
    counter = lock_numbering(session, period=original.period, kind=InvoiceKind.credit_note)
    prior = session.exec(select(Invoice).where(Invoice.corrects_id == invoice_id)).first()
    if prior is not None:
        raise Conflict(
            f"{original.number} is already credited by {prior.number}",
            details={"credit_note_id": prior.id},
            code="already_credited",
        )
    lines = invoice_lines(session=session, invoice_id=invoice_id)
    chosen = _chosen(lines, line_ids, original.number)
    try:
        note = write_issued(
            session,
            Invoice(
                number=next_number(session, counter, original.period),
                account_id=original.account_id,
                company_id=original.company_id,
                period=original.period,
                kind=InvoiceKind.credit_note,
                corrects_id=original.id,
                reason=reason,
                issued_at=now,
                issued_by=actor_id,
                currency=original.currency,
                total=0,
                vat=0,
                net=0,
            ),
            [line_from(line, sign=-1) for line in chosen],
            terms,
        )
    except IntegrityError:
        session.rollback()
        raise Conflict(
            f"invoice {invoice_id} is already credited", code="already_credited"
        ) from None
    record(
        session=session,
        now=now,
        actor_id=actor_id,
        action="invoice.credit",
        subject=f"invoice:{original.id}",
        credit_note=note.number,
        reason=reason,
        total=note.total,
        lines=[line.id for line in chosen] if line_ids is not None else "all",
    )
    return note


def _standing(session: Session, payer: Payer, period: str) -> Counter[LineKey]:
    """How many lines of each key the payer's month has, less those credited."""
    standing: Counter[LineKey] = Counter()
    rows = session.exec(
        select(Invoice.kind, InvoiceLine)
        .join(InvoiceLine, col(InvoiceLine.invoice_id) == col(Invoice.id))
        .where(
            col(Invoice.account_id) == payer.account_id
            if payer.account_id is not None
            else col(Invoice.company_id) == payer.company_id,
            Invoice.period == period,
        )
    )
    for kind, line in rows:
        standing[_key(line)] += 1 if kind == InvoiceKind.invoice else -1
    return standing


def reissue_invoice(
    *, session: Session, now: datetime, terms: BillingTerms, invoice_id: int, actor_id: int | None
) -> Invoice:
    """Invoice a credited invoice's month again, with a new number, for what it lacks now."""
    original = _invoice(session, invoice_id)  # immutable: safe to read before the lock
    counter = lock_numbering(session, period=original.period, kind=InvoiceKind.invoice)
    if session.exec(select(Invoice).where(Invoice.corrects_id == invoice_id)).first() is None:
        raise Conflict(
            f"{original.number} has no credit note: credit it before invoicing its month again",
            code="not_credited",
        )
    replacement = session.exec(select(Invoice).where(Invoice.replaces_id == invoice_id)).first()
    if replacement is not None:
        raise Conflict(
            f"{original.number} is already replaced by {replacement.number}",
            details={"invoice_id": replacement.id},
            code="already_replaced",
        )
    month = parse_period(original.period, terms.zone)
    payer = Payer(original.account_id, original.company_id)
    drafts = payer_lines(session=session, period=month, terms=terms).get(payer, [])
    standing = _standing(session, payer, original.period)
    owed = []
    for line in drafts:
        if standing[_key(line)] > 0:
            standing[_key(line)] -= 1  # still billed by a line nobody credited
        else:
            owed.append(line)
    if not owed:
        raise RuleViolation(
            f"nothing is owed for {original.period} beyond what stands invoiced",
            code="nothing_owed",
        )
    return issue_for_account(
        session=session,
        counter=counter,
        now=now,
        terms=terms,
        period=original.period,
        account_id=original.account_id,
        company_id=original.company_id,
        lines=owed,
        actor_id=actor_id,
        replaces_id=original.id,
    )
