"""Writing issued invoices and credit notes in bulk: drafts, their lines, then issued.

The ledger guard (migration 0014) accepts lines only on a draft and an issued total
only as the sum of its lines, so every document is inserted as a draft, its lines
added, and all are flipped to issued in the same transaction. Done for many
documents at once, this is a few statements (one INSERT ... RETURNING of the
invoices, one of the lines, one UPDATE per 500 invoices) instead of three flushes
and one statement per line for each invoice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col

from ..models import Invoice, InvoiceLine, InvoiceStatus
from .billing import LineDraft
from .pricing import BillingTerms, vat_split

FLIP_CHUNK = 500


def line_values(source: LineDraft | InvoiceLine, sign: int = 1) -> dict[str, Any]:
    """A new line's columns, copied from a draft or, negated by `sign`, from another line."""
    return {
        "basis": source.basis,
        "description": source.description,
        "resource_id": source.resource_id,
        "reservation_id": source.reservation_id,
        "usage_session_id": source.usage_session_id,
        "quantity_minutes": source.quantity_minutes,
        "unit_price": source.unit_price,
        "discount_percent": source.discount_percent,
        "amount": sign * source.amount,
        "credits_line_id": source.id if isinstance(source, InvoiceLine) else None,
        "adjusts_period": source.adjusts_period,
        "member_account_id": source.member_account_id,
    }


def columns(row: Invoice | InvoiceLine, exclude: set[str]) -> dict[str, Any]:
    """A row's column values by name, less those excluded (no validation, no warnings)."""
    table = type(row).__table__  # type: ignore[union-attr]
    return {c.key: getattr(row, c.key) for c in table.columns if c.key not in exclude}


def write_issued_many(
    session: Session,
    documents: list[tuple[Invoice, list[dict[str, Any]]]],
    terms: BillingTerms,
) -> list[Invoice]:
    """Issue each (invoice, line values) pair, in order; the invoices as written, issued."""
    if not documents:
        return []
    session.flush()  # the counter and anything pending go first, as they would one by one
    rows = []
    for invoice, lines in documents:
        total = sum(line["amount"] for line in lines)
        vat, net = vat_split(total, terms.vat_rate)
        values = invoice.model_dump(exclude={"id"})
        rows.append(
            {**values, "status": InvoiceStatus.draft, "total": total, "vat": vat, "net": net}
        )
    written = list(
        session.scalars(
            insert(Invoice).returning(Invoice, sort_by_parameter_order=True),
            rows,
        )
    )
    lines = [
        {**line, "invoice_id": invoice.id, "position": position}
        for invoice, (_, values) in zip(written, documents, strict=True)
        for position, line in enumerate(values, start=1)
    ]
    if lines:
        session.execute(insert(InvoiceLine), lines)
    ids = [invoice.id for invoice in written]
    for start in range(0, len(ids), FLIP_CHUNK):
        session.execute(
            update(Invoice)
            .where(col(Invoice.id).in_(ids[start : start + FLIP_CHUNK]))
            .values(status=InvoiceStatus.issued)
            .execution_options(synchronize_session="evaluate")
        )
    return written
