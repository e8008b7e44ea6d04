"""Issuing invoices, numbering them, and who may read them (credit notes: credit_notes.py).

Issuing takes the number counter of the billed year first (numbering.py: its row
lock on PostgreSQL, the write lock on SQLite), so concurrent issuers of a month
queue: the second finds the invoices of the first and adds none. The partial
unique index on (account, period) of invoices backs this up; numbers come from
the counter inside the same transaction, so a rolled-back issue leaves no gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from ..errors import Forbidden, NotFound, RuleViolation
from ..models import Invoice, InvoiceCounter, InvoiceKind, InvoiceLine, Resource
from .accounts import Principal
from .adjustments import adjustments, not_yet_adjusted
from .audit import record_each
from .billing import LineDraft
from .closing import ensure_closed
from .issuing import columns, line_values, write_issued_many
from .numbering import lock_numbering, next_number
from .payers import payer_lines
from .pricing import BillingTerms, parse_period
from .rental import Payer


@dataclass
class Issued:
    """What an issue run did: invoices it created, and those the period already had."""

    created: list[Invoice] = field(default_factory=list)
    existing: list[Invoice] = field(default_factory=list)


def _period_invoices(session: Session, period: str) -> list[Invoice]:
    return list(
        session.exec(
            select(Invoice)
            .where(Invoice.period == period, Invoice.kind == InvoiceKind.invoice)
            .order_by(col(Invoice.id))
        )
    )


def issue_invoices(
    *, session: Session, now: datetime, terms: BillingTerms, period: str, actor_id: int | None
) -> Issued:
    """Invoice every payer (account or company) owing something for a closed month, once.

    Open runs hold the month back until the grace period ends (closing.py); each
    invoice also carries the adjustments of the months issued before (adjustments.py).
    """
    month = parse_period(period, terms.zone)
    if now < month.end:
        raise RuleViolation(
            f"{period} is not over yet: it can be issued from "
            f"{month.end.date().isoformat()} 00:00 ({terms.zone.key})",
            details={"period": period, "closes_at": month.end.isoformat()},
            code="period_open",
        )
    counter = lock_numbering(session, period=period, kind=InvoiceKind.invoice)
    done = Issued(existing=_period_invoices(session, period))
    billed = {Payer(invoice.account_id, invoice.company_id) for invoice in done.existing}
    if not done.existing:
        ensure_closed(session=session, now=now, terms=terms, period=month)
    drafts = payer_lines(session=session, period=month, terms=terms)
    late = adjustments(session=session, terms=terms, before=period)
    try:
        owed: list[tuple[Payer, list[LineDraft]]] = []
        for payer in sorted((drafts.keys() | late.keys()) - billed, key=lambda p: p.key):
            own = drafts.get(payer, [])
            if done.existing:
                # Issuing again: what a later invoice's adjustment brought in is not billed twice.
                own = not_yet_adjusted(session=session, period=period, payer=payer, lines=own)
            if own or payer in late:
                owed.append((payer, own + late.get(payer, [])))
        done.created = issue_for_accounts(
            session=session,
            counter=counter,
            now=now,
            terms=terms,
            period=period,
            owed=owed,
            actor_id=actor_id,
        )
        session.flush()
    except IntegrityError:
        # Another issuer got there first (the counter's lock makes this a backstop only).
        session.rollback()
        return Issued(existing=_period_invoices(session, period))
    return done


def issue_for_account(
    *,
    session: Session,
    counter: InvoiceCounter,
    now: datetime,
    terms: BillingTerms,
    period: str,
    account_id: int | None,
    lines: list[LineDraft],
    actor_id: int | None,
    replaces_id: int | None = None,
    company_id: int | None = None,
) -> Invoice:
    """Number, write and audit the invoice of one payer (or the replacement of one)."""
    (invoice,) = issue_for_accounts(
        session=session,
        counter=counter,
        now=now,
        terms=terms,
        period=period,
        owed=[(Payer(account_id, company_id), lines)],
        actor_id=actor_id,
        replaces_id=replaces_id,
    )
    return invoice


def issue_for_accounts(
    *,
    session: Session,
    counter: InvoiceCounter,
    now: datetime,
    terms: BillingTerms,
    period: str,
    owed: list[tuple[Payer, list[LineDraft]]],
    actor_id: int | None,
    replaces_id: int | None = None,
) -> list[Invoice]:
    """Number, write and audit the invoices of many payers at once, in the order given."""
    documents = [
        (
            Invoice(
                number=next_number(session, counter, period),
                account_id=payer.account_id,
                company_id=payer.company_id,
                period=period,
                kind=InvoiceKind.invoice,
                replaces_id=replaces_id,
                issued_at=now,
                issued_by=actor_id,
                currency=terms.currency,
                total=0,
                vat=0,
                net=0,
            ),
            [line_values(line) for line in lines],
        )
        for payer, lines in owed
    ]
    invoices = write_issued_many(session, documents, terms)
    record_each(
        session=session,
        now=now,
        actor_id=actor_id,
        action="invoice.reissue" if replaces_id else "invoice.issue",
        entries=[
            (
                f"invoice:{invoice.id}",
                {
                    "number": invoice.number,
                    "period": period,
                    "account_id": invoice.account_id,
                    **({"company_id": invoice.company_id} if invoice.company_id else {}),
                    "total": invoice.total,
                    **({"replaces": replaces_id} if replaces_id else {}),
                },
            )
            for invoice in invoices
        ],
    )
    return invoices


def line_from(source: LineDraft | InvoiceLine, sign: int = 1) -> InvoiceLine:
    """A new line copied from a draft or, negated by `sign`, from another invoice's line."""
    # invoice_id and position are set by write_issued.
    return InvoiceLine(invoice_id=0, position=0, **line_values(source, sign))


def write_issued(
    session: Session, invoice: Invoice, lines: list[InvoiceLine], terms: BillingTerms
) -> Invoice:
    """The one path to an issued invoice or credit note: a draft, its lines, then issued.

    The database refuses lines added to anything but a draft and an issued total that
    is not the sum of its lines; once issued, nothing of it changes (issuing.py writes
    many at once the same way).
    """
    values = [columns(line, exclude={"id", "invoice_id", "position"}) for line in lines]
    (issued,) = write_issued_many(session, [(invoice, values)], terms)
    return issued


def invoice_lines(*, session: Session, invoice_id: int) -> list[InvoiceLine]:
    return list(
        session.exec(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice_id)
            .order_by(col(InvoiceLine.position))
        )
    )


def visible_invoices(actor: Principal) -> SelectOfScalar[Invoice]:
    """A maker's own invoices (and their company's with a section of theirs); an operator's
    too and those with a line at their sites; all."""
    query = select(Invoice)
    if actor.admin:
        return query
    mine = or_(
        col(Invoice.account_id) == actor.id,
        exists().where(
            col(InvoiceLine.invoice_id) == col(Invoice.id),
            col(InvoiceLine.member_account_id) == actor.id,
        ),
    )
    if not actor.operator_sites:
        return query.where(mine)
    at_their_site = exists().where(
        col(InvoiceLine.invoice_id) == col(Invoice.id),
        col(InvoiceLine.resource_id) == col(Resource.id),
        col(Resource.site_id).in_(actor.operator_sites),
    )
    return query.where(or_(mine, at_their_site))


def list_invoices(
    *,
    session: Session,
    actor: Principal,
    period: str | None,
    account_id: int | None,
    kind: InvoiceKind | None = None,
    company_id: int | None = None,
) -> list[Invoice]:
    if account_id not in (None, actor.id) and not actor.is_staff:
        raise Forbidden("a maker sees only their own invoices")
    query = visible_invoices(actor)
    if period is not None:
        query = query.where(col(Invoice.period) == period)
    if account_id is not None:
        query = query.where(col(Invoice.account_id) == account_id)
    if company_id is not None:
        query = query.where(col(Invoice.company_id) == company_id)
    if kind is not None:
        query = query.where(col(Invoice.kind) == kind)
    return list(session.exec(query.order_by(col(Invoice.id))))


def get_invoice(*, session: Session, actor: Principal, invoice_id: int) -> Invoice:
    """The invoice if it exists and the actor may see it; else NotFound."""
    found = session.exec(visible_invoices(actor).where(col(Invoice.id) == invoice_id)).first()
    if found is None:
        raise NotFound(f"no invoice {invoice_id}")
    return found


def credit_note_of(*, session: Session, actor: Principal, invoice_id: int) -> Invoice | None:
    """The credit note that corrects an invoice, if there is one the actor may see."""
    return session.exec(
        visible_invoices(actor).where(col(Invoice.corrects_id) == invoice_id)
    ).first()


def replacement_of(*, session: Session, actor: Principal, invoice_id: int) -> Invoice | None:
    """The invoice issued again in place of a credited one, if the actor may see it."""
    return session.exec(
        visible_invoices(actor).where(col(Invoice.replaces_id) == invoice_id)
    ).first()
