"""Invoice numbers: the billed month in the number, 1..N without gaps per billed year."""

from __future__ import annotations

import threading

from sqlalchemy import text
from sqlmodel import Session, col, select

from service.models import Invoice, InvoiceKind
from service.rules.credit_notes import credit_invoice, reissue_invoice
from service.rules.invoicing import Issued, issue_invoices
from tests.billing import issue
from tests.conftest import CURRENT_TIME
from tests.factories import make_run, seoul

PEOPLE = ("maker", "other", "operator", "admin")


def _numbers(session: Session, kind: InvoiceKind = InvoiceKind.invoice) -> list[str]:
    return list(
        session.exec(select(Invoice.number).where(Invoice.kind == kind).order_by(col(Invoice.id)))
    )


def test_the_number_carries_the_billed_month_and_counts_per_billed_year(
    session, world, terms, priced
):
    for who in ("maker", "other", "operator"):
        make_run(session, world, "laser", "2026-01-10 10:00", 600, who=who)
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    make_run(session, world, "laser", "2026-12-10 10:00", 600, who="maker")
    make_run(session, world, "laser", "2027-01-10 10:00", 600, who="other")
    session.commit()
    # January is issued late, after February: each keeps its own month in the number.
    issue(session, terms, period="2026-02", now=seoul("2026-03-02 09:00"))
    issue(session, terms, period="2026-01", now=seoul("2026-03-03 09:00"))
    # December is issued in January and still counts in 2026; January 2027 starts at 1.
    issue(session, terms, period="2026-12", now=seoul("2027-01-04 09:00"))
    issue(session, terms, period="2027-01", now=seoul("2027-02-01 09:00"))
    assert _numbers(session) == [
        "2026-02-000001",
        "2026-01-000002",
        "2026-01-000003",
        "2026-01-000004",
        "2026-12-000005",
        "2027-01-000001",
    ]


def test_credit_notes_have_their_own_series_and_reissues_continue_the_year(
    session, world, terms, priced
):
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    make_run(session, world, "laser", "2026-03-10 10:00", 600, who="other")
    session.commit()
    (february,) = issue(session, terms).created
    note = credit_invoice(
        session=session,
        now=seoul("2026-04-02 09:00"),
        terms=terms,
        invoice_id=february.id,
        actor_id=None,
        reason="wrong rate",
    )
    (march,) = issue(session, terms, period="2026-03", now=seoul("2026-04-02 10:00")).created
    again = reissue_invoice(
        session=session,
        now=seoul("2026-04-02 11:00"),
        terms=terms,
        invoice_id=february.id,
        actor_id=None,
    )
    session.commit()
    assert note.number == "CN-2026-02-000001"
    # The invoice series of 2026 stays 1..3 without the credit note in between.
    assert (february.number, march.number, again.number) == (
        "2026-02-000001",
        "2026-03-000002",
        "2026-02-000003",
    )


def test_a_rolled_back_issue_leaves_no_hole_in_the_numbers(session, world, terms, priced):
    for who in ("maker", "other"):
        make_run(session, world, "laser", "2026-02-10 10:00", 600, who=who)
    session.commit()
    issue_invoices(session=session, now=CURRENT_TIME, terms=terms, period="2026-02", actor_id=None)
    session.rollback()
    assert _numbers(session) == []
    issue(session, terms)
    assert _numbers(session) == ["2026-02-000001", "2026-02-000002"]
    last = (
        session.connection()
        .execute(text("SELECT last FROM invoice_counter WHERE series = 'invoice' AND year = 2026"))
        .scalar_one()
    )
    assert last == 2


def test_concurrent_issuers_of_several_months_number_the_year_without_gaps(
    engine, session, world, terms, priced
):
    # Four months, four accounts each: sixteen invoices of 2026 from four issuers at once.
    months = ("2026-01", "2026-02", "2026-03", "2026-04")
    for month in months:
        for who in PEOPLE:
            make_run(session, world, "laser", f"{month}-10 10:00", 600, who=who)
    session.commit()
    start = threading.Barrier(len(months))
    outcomes: list[Issued | BaseException] = []

    def issuer(period: str) -> None:
        with Session(engine, expire_on_commit=False) as own:
            start.wait()
            try:
                outcomes.append(issue(own, terms, period=period, now=seoul("2026-05-04 09:00")))
            except BaseException as exc:  # noqa: BLE001 - the test inspects it
                outcomes.append(exc)

    threads = [threading.Thread(target=issuer, args=(month,)) for month in months]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(o, Issued) and len(o.created) == 4 for o in outcomes), outcomes
    numbers = _numbers(session)
    assert sorted(int(n[-6:]) for n in numbers) == list(range(1, 17))
    # Each issuer took its month's four numbers in one run: the months queue, not interleave.
    for month in months:
        mine = sorted(int(n[-6:]) for n in numbers if n.startswith(month))
        assert len(mine) == 4 and mine == list(range(mine[0], mine[0] + 4))
