"""What months already issued lack today: one answer for issuing and for the reconcile report.

For an issued month, each source of a charge — a reservation, a usage session
billed on its own, a room held by the month — is billed today by the same rules
as at issue (billing.py) and compared with what stands invoiced for it: the
lines of that month's invoices and of its credit notes, and the adjustment lines
that later invoices carried for that month. The difference is billed, as an
adjustment line naming the month and the source, on the payer's next invoice
(the account, or the company it bills to: the same payer-grouped lines as issuing,
rent included, payers.py); after that, the month reconciles to zero.

- A source that a credit note touched is left to the credit's own path (re-issue,
  credit_notes.py): a credit given as a goodwill gesture stays given.
- Membership fees are not usage or bookings and are never adjusted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from ..models import Invoice, InvoiceKind, InvoiceLine, LineBasis
from .billing import LineDraft
from .payers import payer_lines
from .pricing import BillingTerms, parse_period
from .rental import Payer

# ("reservation" | "usage_session" | "resource", id): what a line charges for.
Source = tuple[str, int]
SOURCE_NAMES = {
    "reservation": "예약 / reservation",
    "usage_session": "사용 세션 / usage session",
    "resource": "월 사용 / monthly",
}


def source_of(line: LineDraft | InvoiceLine) -> Source | None:
    """The reservation or run a line bills, the room of a monthly fee; None for a membership."""
    if line.reservation_id is not None:
        return ("reservation", line.reservation_id)
    if line.usage_session_id is not None:
        return ("usage_session", line.usage_session_id)
    if line.resource_id is not None:
        return ("resource", line.resource_id)
    return None


@dataclass
class Balance:
    """One source of one payer in an issued month: billed today against invoiced."""

    period: str
    payer: Payer
    source: str
    source_id: int
    resource_id: int | None = None
    member_account_id: int | None = None
    billed_today: int = 0
    invoiced: int = 0  # net of credit notes, with the adjustments issued since
    invoiced_minutes: int = 0
    credited: bool = False
    today: list[LineDraft] = field(default_factory=list)

    @property
    def account_id(self) -> int | None:
        return self.payer.account_id

    @property
    def company_id(self) -> int | None:
        return self.payer.company_id

    @property
    def difference(self) -> int:
        """What the account's next invoice adds for this source (0 once adjusted)."""
        return 0 if self.credited else self.billed_today - self.invoiced


def issued_periods(*, session: Session, before: str | None = None) -> list[str]:
    """Months with at least one invoice, oldest first; only those before `before` if given."""
    query = select(Invoice.period).where(Invoice.kind == InvoiceKind.invoice).distinct()
    if before is not None:
        query = query.where(col(Invoice.period) < before)
    return sorted(session.exec(query))


def _invoiced(session: Session, period: str) -> Iterable[tuple[Invoice, InvoiceLine]]:
    """Lines that count for the month: its own, its credits', adjustments made for it since."""
    counts_for = func.coalesce(col(InvoiceLine.adjusts_period), col(Invoice.period))
    return session.exec(
        select(Invoice, InvoiceLine)
        .join(InvoiceLine, col(InvoiceLine.invoice_id) == col(Invoice.id))
        .where(counts_for == period)
        .order_by(col(InvoiceLine.id))
    )


def balances(*, session: Session, terms: BillingTerms, period: str) -> list[Balance]:
    """Every source of an issued month, by payer, with what it bills today and stands at."""
    found: dict[tuple[Payer, Source], Balance] = {}

    def balance(payer: Payer, source: Source, line: LineDraft | InvoiceLine) -> Balance:
        key = (payer, source)
        if key not in found:
            found[key] = Balance(
                period, payer, source[0], source[1], line.resource_id, line.member_account_id
            )
        return found[key]

    month = parse_period(period, terms.zone)
    for payer, lines in payer_lines(session=session, period=month, terms=terms).items():
        for line in lines:
            source = source_of(line)
            if source is not None:
                row = balance(payer, source, line)
                row.billed_today += line.amount
                row.today.append(line)
    for invoice, stored in _invoiced(session, period):
        source = source_of(stored)
        if source is not None:
            row = balance(Payer(invoice.account_id, invoice.company_id), source, stored)
            row.invoiced += stored.amount
            row.invoiced_minutes += stored.quantity_minutes
            row.credited = row.credited or invoice.kind == InvoiceKind.credit_note
    return sorted(found.values(), key=lambda b: (b.payer.key, b.source, b.source_id))


def adjustment_line(row: Balance, at: datetime) -> LineDraft:
    """The line that brings one source of an issued month to what the rules bill today."""
    first = row.today[0] if row.today else None
    name = SOURCE_NAMES[row.source]
    return LineDraft(
        basis=LineBasis.adjustment,
        description=(
            f"{row.period} 정산 조정 / adjustment for {row.period} · {name} #{row.source_id}"
        ),
        unit_price=first.unit_price if first is not None else 0,
        amount=row.difference,
        at=at,
        quantity_minutes=sum(line.quantity_minutes for line in row.today) - row.invoiced_minutes,
        discount_percent=first.discount_percent if first is not None else 0,
        resource_id=row.resource_id,
        reservation_id=row.source_id if row.source == "reservation" else None,
        usage_session_id=row.source_id if row.source == "usage_session" else None,
        adjusts_period=row.period,
        member_account_id=row.member_account_id,
    )


def adjustments(
    *, session: Session, terms: BillingTerms, before: str
) -> dict[Payer, list[LineDraft]]:
    """Per payer, the adjustment lines for every month issued before `before`, oldest first."""
    lines: dict[Payer, list[LineDraft]] = defaultdict(list)
    for period in issued_periods(session=session, before=before):
        starts = parse_period(period, terms.zone).start
        for row in balances(session=session, terms=terms, period=period):
            if row.difference:
                lines[row.payer].append(adjustment_line(row, starts))
    return dict(lines)


def not_yet_adjusted(
    *, session: Session, period: str, payer: Payer, lines: list[LineDraft]
) -> list[LineDraft]:
    """The lines of a month not already billed to the payer by a later invoice's adjustment.

    A payer first invoiced for a month already issued (issuing it again) is not billed
    twice for what an adjustment brought in before.
    """
    adjusted = {
        source_of(line)
        for line in session.exec(
            select(InvoiceLine)
            .join(Invoice, col(Invoice.id) == col(InvoiceLine.invoice_id))
            .where(
                col(Invoice.account_id) == payer.account_id
                if payer.account_id is not None
                else col(Invoice.company_id) == payer.company_id,
                InvoiceLine.adjusts_period == period,
            )
        )
    }
    return [line for line in lines if source_of(line) is None or source_of(line) not in adjusted]
