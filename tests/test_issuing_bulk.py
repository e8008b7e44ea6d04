"""Issuing a month writes all its invoices at once: each issued, its lines in order, summed."""

from __future__ import annotations

from sqlmodel import select

from service.models import AuditLog, InvoiceStatus
from tests.billing import invoice_of, issue, lines
from tests.factories import make_run


def test_every_invoice_of_a_month_is_issued_with_its_lines_in_order(session, world, terms, priced):
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    make_run(session, world, "laser", "2026-02-11 10:00", 1_800, who="maker")
    make_run(session, world, "laser", "2026-02-12 10:00", 5_400, who="other")
    session.commit()
    done = issue(session, terms)
    mine, theirs = invoice_of(done, world, "maker"), invoice_of(done, world, "other")
    assert {mine.status, theirs.status} == {InvoiceStatus.issued}
    # 22,000 won/h: 10 min = 3,666.7 -> 3,667; 30 min = 11,000; 90 min = 33,000.
    assert [(x.position, x.amount) for x in lines(session, mine)] == [(1, 3_667), (2, 11_000)]
    assert [(x.position, x.amount) for x in lines(session, theirs)] == [(1, 33_000)]
    # VAT inside the total: 14,667 x 0.1 / 1.1 = 1,333.4 -> 1,333; 33,000 -> 3,000.
    assert (mine.total, mine.vat, mine.net) == (14_667, 1_333, 13_334)
    assert (theirs.total, theirs.vat, theirs.net) == (33_000, 3_000, 30_000)
    entries = session.exec(select(AuditLog).where(AuditLog.action == "invoice.issue")).all()
    assert sorted((e.subject, e.detail["total"]) for e in entries) == sorted(
        [(f"invoice:{mine.id}", 14_667), (f"invoice:{theirs.id}", 33_000)]
    )
