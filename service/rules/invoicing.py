"""Issuing invoices, numbering them, and who may read them (credit notes: credit_notes.py).

Issuing takes the year's number counter first (its row lock on PostgreSQL, the
write lock on SQLite), so concurrent issuers queue: the second finds the
invoices of the first and adds none. The partial unique index on (account,
period) of invoices backs this up; numbers come from the counter inside the same
transaction, so a rolled-back issue leaves no gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import exists, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from ..db import begin_write
from ..errors import Forbidden, NotFound, RuleViolation
from ..models import Invoice, InvoiceCounter, InvoiceKind, InvoiceLine, InvoiceStatus, Resource
from .accounts import Principal
from .audit import record
from .billing import LineDraft
from .payers import payer_lines
from .pricing import BillingTerms, parse_period, vat_split
from .rental import Payer


@dataclass
class Issued:
    """What an issue run did: invoices it created, and those the period already had."""

    created: list[Invoice] = field(default_factory=list)
    existing: list[Invoice] = field(default_factory=list)


def lock_numbering(session: Session, now: datetime, terms: BillingTerms) -> InvoiceCounter:
    """The counter of the year of `now` (site time), locked until the transaction ends."""
    begin_write(session)
    year = now.astimezone(terms.zone).year
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(InvoiceCounter).values(year=year, last=0).on_conflict_do_nothing(),
    )
    return session.exec(
        select(InvoiceCounter)
        .where(InvoiceCounter.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def next_number(session: Session, counter: InvoiceCounter, now: datetime, zone: ZoneInfo) -> str:
    """The next number of the locked counter's year, e.g. SF-2026-03-000042."""
    counter.last += 1
    session.add(counter)
    local = now.astimezone(zone)
    return f"SF-{local.year:04d}-{local.month:02d}-{counter.last:06d}"


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
    """Invoice every payer (account or company) owing something for a closed month, once."""
    month = parse_period(period, terms.zone)
    if now < month.end:
        raise RuleViolation(
            f"{period} is not over yet: it can be issued from "
            f"{month.end.date().isoformat()} 00:00 ({terms.zone.key})",
            details={"period": period, "closes_at": month.end.isoformat()},
            code="period_open",
        )
    counter = lock_numbering(session, now, terms)
    done = Issued(existing=_period_invoices(session, period))
    billed = {Payer(invoice.account_id, invoice.company_id) for invoice in done.existing}
    drafts = payer_lines(session=session, period=month, terms=terms)
    try:
        for payer, lines in drafts.items():
            if payer not in billed:
                invoice = issue_for_account(
                    session=session,
                    counter=counter,
                    now=now,
                    terms=terms,
                    period=period,
                    account_id=payer.account_id,
                    company_id=payer.company_id,
                    lines=lines,
                    actor_id=actor_id,
                )
                done.created.append(invoice)
        session.flush()
    except IntegrityError:
        # Another issuer got there first (only possible across a change of year).
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
    invoice = write_issued(
        session,
        Invoice(
            number=next_number(session, counter, now, terms.zone),
            account_id=account_id,
            company_id=company_id,
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
        [line_from(line) for line in lines],
        terms,
    )
    record(
        session=session,
        now=now,
        actor_id=actor_id,
        action="invoice.reissue" if replaces_id else "invoice.issue",
        subject=f"invoice:{invoice.id}",
        number=invoice.number,
        period=period,
        account_id=account_id,
        **({"company_id": company_id} if company_id else {}),
        total=invoice.total,
        **({"replaces": replaces_id} if replaces_id else {}),
    )
    return invoice


def line_from(source: LineDraft | InvoiceLine, sign: int = 1) -> InvoiceLine:
    """A new line copied from a draft or, negated by `sign`, from another invoice's line."""
    return InvoiceLine(
        invoice_id=0,  # set by write_issued, as is the position
        position=0,
        basis=source.basis,
        description=source.description,
        resource_id=source.resource_id,
        reservation_id=source.reservation_id,
        usage_session_id=source.usage_session_id,
        quantity_minutes=source.quantity_minutes,
        unit_price=source.unit_price,
        discount_percent=source.discount_percent,
        amount=sign * source.amount,
        credits_line_id=source.id if isinstance(source, InvoiceLine) else None,
        member_account_id=source.member_account_id,
    )


def write_issued(
    session: Session, invoice: Invoice, lines: list[InvoiceLine], terms: BillingTerms
) -> Invoice:
    """The one path to an issued invoice or credit note: a draft, its lines, then issued.

    The database refuses lines added to anything but a draft and an issued total that
    is not the sum of its lines; once issued, nothing of it changes.
    """
    invoice.status = InvoiceStatus.draft
    invoice.total = sum(line.amount for line in lines)
    invoice.vat, invoice.net = vat_split(invoice.total, terms.vat_rate)
    session.add(invoice)
    session.flush()
    for position, line in enumerate(lines, start=1):
        line.invoice_id, line.position = invoice.id or 0, position
        session.add(line)
    session.flush()
    invoice.status = InvoiceStatus.issued
    session.add(invoice)
    session.flush()
    return invoice


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
