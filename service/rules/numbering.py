"""Invoice and credit-note numbers: the billed month in the number, gapless per billed year.

An invoice for October 2026 is numbered `2026-10-000123`, whenever it is issued
(December's invoices go out in January and still count in 2026). Credit notes
have their own series, `CN-2026-10-000007`, named for the month of the invoice
they correct; a re-issued invoice takes the next number of its month's year in
the invoice series. Each series counts per billed year in the guarded
`invoice_counter` row (series, year), taken and moved forward inside the
transaction that writes the document, so a rolled-back issue leaves no hole and
concurrent issuers of a year queue on its row lock (the write lock on SQLite).
"""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from ..db import begin_write
from ..models import InvoiceCounter, InvoiceKind

PREFIX = {InvoiceKind.invoice: "", InvoiceKind.credit_note: "CN-"}


def lock_numbering(session: Session, *, period: str, kind: InvoiceKind) -> InvoiceCounter:
    """The counter of `kind`'s series for the billed year of `period` (YYYY-MM), locked."""
    begin_write(session)
    series, year = InvoiceKind(kind).value, int(period[:4])
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(InvoiceCounter).values(series=series, year=year, last=0).on_conflict_do_nothing(),
    )
    return session.exec(
        select(InvoiceCounter)
        .where(InvoiceCounter.series == series, InvoiceCounter.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def next_number(session: Session, counter: InvoiceCounter, period: str) -> str:
    """The next number of the locked counter for a document of `period`, e.g. 2026-10-000042."""
    if int(period[:4]) != counter.year:
        raise ValueError(f"{period} is not numbered by the {counter.year} counter")
    counter.last += 1
    session.add(counter)
    return f"{PREFIX[InvoiceKind(counter.series)]}{period}-{counter.last:06d}"
