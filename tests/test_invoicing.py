"""Issuing invoices: once per account and month, numbered without gaps, immutable."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.errors import Conflict, RuleViolation
from service.models import (
    AuditLog,
    Invoice,
    InvoiceKind,
)
from service.rules.credit_notes import credit_invoice
from service.rules.invoicing import Issued, issue_invoices
from service.rules.numbering import lock_numbering
from tests.billing import FEB, issue
from tests.conftest import CURRENT_TIME
from tests.factories import make_run, seoul

# --- issuing ----------------------------------------------------------------


def test_a_month_can_be_issued_only_once_it_has_ended_in_seoul(session, world, terms, priced):
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    session.commit()
    with pytest.raises(RuleViolation) as early:
        issue(session, terms, now=seoul("2026-02-28 23:59"))
    assert early.value.code == "period_open"
    with pytest.raises(RuleViolation):
        issue(session, terms, period="2026-03")
    assert len(issue(session, terms, now=seoul("2026-03-01 00:00")).created) == 1


def test_issuing_a_month_again_bills_nobody_twice(session, world, terms, priced):
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    make_run(session, world, "laser", "2026-02-11 10:00", 600, who="other")
    session.commit()
    first = issue(session, terms)
    # Late telemetry for an account already invoiced does not reopen its invoice.
    make_run(session, world, "laser", "2026-02-12 10:00", 600, who="maker")
    session.commit()
    second = issue(session, terms)
    assert len(first.created) == 2
    assert second.created == []
    assert [i.id for i in second.existing] == [i.id for i in first.created]
    assert session.exec(select(func.count()).select_from(Invoice)).one() == 2


def test_issuing_records_an_audit_entry_per_invoice(session, world, terms, priced):
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    session.commit()
    (invoice,) = issue_invoices(
        session=session, now=CURRENT_TIME, terms=terms, period=FEB, actor_id=world.id("admin")
    ).created
    entry = session.exec(select(AuditLog).where(AuditLog.action == "invoice.issue")).one()
    assert entry.subject == f"invoice:{invoice.id}" and entry.actor_id == world.id("admin")
    assert entry.detail["number"] == invoice.number and entry.detail["total"] == invoice.total


def test_an_issuer_waits_while_another_holds_the_invoice_numbers(
    engine, session, world, terms, priced
):
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    session.commit()
    outcomes: list[Issued | BaseException] = []

    def second_issuer() -> None:
        with Session(engine, expire_on_commit=False) as own:
            try:
                outcomes.append(issue(own, terms))
            except BaseException as exc:  # noqa: BLE001 - the test inspects it
                outcomes.append(exc)

    with Session(engine, expire_on_commit=False) as first:
        lock_numbering(first, period=FEB, kind=InvoiceKind.invoice)
        first.commit()  # the year's counter exists: creating it is no longer what waits
        lock_numbering(first, period=FEB, kind=InvoiceKind.invoice)
        racer = threading.Thread(target=second_issuer)
        racer.start()
        racer.join(timeout=1.0)
        assert racer.is_alive(), "a second issuer must wait for the numbers"
        first.commit()
    racer.join(timeout=30)
    (done,) = outcomes
    assert isinstance(done, Issued) and len(done.created) == 1


def test_concurrent_issuers_create_each_invoice_once(engine, session, world, terms, priced):
    for who in ("maker", "other", "operator", "admin"):
        make_run(session, world, "laser", "2026-02-10 10:00", 600, who=who)
    session.commit()
    start = threading.Barrier(4)
    outcomes: list[Issued | BaseException] = []

    def issuer() -> None:
        with Session(engine, expire_on_commit=False) as own:
            start.wait()
            try:
                outcomes.append(issue(own, terms))
            except BaseException as exc:  # noqa: BLE001 - the test inspects it
                outcomes.append(exc)

    threads = [threading.Thread(target=issuer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(o, Issued) for o in outcomes), outcomes
    created = [len(o.created) for o in outcomes if isinstance(o, Issued)]
    assert sorted(created) == [0, 0, 0, 4]
    numbers = session.exec(select(Invoice.number).order_by(col(Invoice.number))).all()
    assert numbers == [f"2026-02-{n:06d}" for n in (1, 2, 3, 4)]


def test_concurrent_credit_notes_for_one_invoice_make_one(engine, session, world, terms, priced):
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    session.commit()
    (invoice,) = issue(session, terms).created
    start = threading.Barrier(3)
    outcomes: list[Invoice | BaseException] = []

    def creditor() -> None:
        with Session(engine, expire_on_commit=False) as own:
            start.wait()
            try:
                note = credit_invoice(
                    session=own,
                    now=CURRENT_TIME,
                    terms=terms,
                    invoice_id=invoice.id,
                    actor_id=None,
                    reason="duplicate",
                )
                own.commit()
                outcomes.append(note)
            except BaseException as exc:  # noqa: BLE001 - the test inspects it
                outcomes.append(exc)

    threads = [threading.Thread(target=creditor) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    notes = [o for o in outcomes if isinstance(o, Invoice)]
    refusals = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(notes) == 1 and len(refusals) == 2, outcomes
    assert notes[0].number == "CN-2026-02-000001" and notes[0].total == -invoice.total


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE invoice SET total = 0",
        "DELETE FROM invoice",
        "UPDATE invoice_line SET amount = 0",
        "DELETE FROM invoice_line",
    ],
)
def test_the_database_refuses_to_change_an_issued_invoice(
    engine, session, world, terms, priced, statement
):
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    session.commit()
    issue(session, terms)
    with pytest.raises(IntegrityError, match="immutable"), engine.begin() as conn:
        conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT total FROM invoice")).scalar() == 3_667
        assert conn.execute(text("SELECT count(*) FROM invoice_line")).scalar() == 1
