"""Payment state of invoices: due date, part payments, paid, overdue, mark paid."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from service.errors import Conflict, Forbidden, RuleViolation
from service.models import AuditLog
from service.rules.credit_notes import credit_invoice
from service.rules.payments import PayState, payment_state, record_payment
from tests.billing import invoice_of, issue, two_laser_runs_and_a_lathe_run
from tests.conftest import CURRENT_TIME
from tests.factories import principal_of

# 10 minutes at 22,000 won/h = 3,666.67 → 3,667; 25 minutes = 9,166.67 → 9,167.
MAKERS_TOTAL = 3_667 + 9_167


@pytest.fixture
def invoice(session, terms, world):
    two_laser_runs_and_a_lathe_run(session, world)
    found = invoice_of(issue(session, terms), world, "maker")
    assert found.total == MAKERS_TOTAL == 12_834
    return found


def _pay(session, terms, world, invoice, who="admin", now=CURRENT_TIME, **kw):
    payment = record_payment(
        session=session,
        now=now,
        terms=terms,
        actor=principal_of(session, world, who),
        invoice_id=invoice.id,
        **kw,
    )
    session.commit()
    return payment


def _state(session, terms, invoice, now=CURRENT_TIME):
    return payment_state(session=session, now=now, terms=terms, invoice=invoice)


def test_an_invoice_is_due_thirty_days_after_its_issue_day_at_the_site(session, terms, invoice):
    # Issued 2026-03-02 09:00 in Seoul; 2 March + 30 days = 1 April.
    state = _state(session, terms, invoice)
    assert state.due_on == date(2026, 4, 1)
    assert (state.state, state.paid_won, state.outstanding) == (PayState.unpaid, 0, 12_834)


def test_the_due_days_come_from_the_settings(session, terms, invoice):
    state = _state(session, replace(terms, payment_due_days=14), invoice)
    assert state.due_on == date(2026, 3, 16)


def test_an_unpaid_invoice_is_overdue_from_the_day_after_its_due_date(session, terms, invoice):
    # 1 April 23:59:59 in Seoul is 14:59:59 UTC: still due that day.
    last_second = datetime(2026, 4, 1, 14, 59, 59, tzinfo=UTC)
    assert _state(session, terms, invoice, last_second).state == PayState.unpaid
    next_day = datetime(2026, 4, 1, 15, 0, tzinfo=UTC)
    assert _state(session, terms, invoice, next_day).state == PayState.overdue


def test_part_payments_add_up_until_the_invoice_is_paid(session, terms, world, invoice):
    _pay(session, terms, world, invoice, amount_won=5_000, method="card")
    part = _state(session, terms, invoice)
    assert (part.state, part.paid_won, part.outstanding) == (PayState.unpaid, 5_000, 7_834)
    rest = _pay(session, terms, world, invoice)  # mark paid: what is still owed
    assert rest.amount_won == 12_834 - 5_000 == 7_834
    paid = _state(session, terms, invoice)
    assert (paid.state, paid.paid_won, paid.outstanding) == (PayState.paid, 12_834, 0)
    # Paid stays paid after the due date.
    late = datetime(2026, 5, 1, tzinfo=UTC)
    assert _state(session, terms, invoice, late).state == PayState.paid


def test_a_paid_invoice_takes_no_more_payments(session, terms, world, invoice):
    _pay(session, terms, world, invoice)
    with pytest.raises(Conflict) as refused:
        _pay(session, terms, world, invoice, amount_won=1)
    assert refused.value.code == "already_paid"


def test_a_payment_above_what_is_owed_is_refused(session, terms, world, invoice):
    with pytest.raises(RuleViolation) as refused:
        _pay(session, terms, world, invoice, amount_won=12_835)
    assert refused.value.code == "payment_amount"
    assert refused.value.details == {"outstanding": 12_834, "amount_won": 12_835}


def test_a_credited_invoice_owes_nothing_and_takes_no_payment(session, terms, world, invoice):
    note = credit_invoice(
        session=session,
        now=CURRENT_TIME,
        terms=terms,
        invoice_id=invoice.id,
        actor_id=world.id("admin"),
        reason="wrong rate",
    )
    session.commit()
    assert _state(session, terms, invoice).state == PayState.settled
    assert _state(session, terms, note).outstanding == 0
    with pytest.raises(Conflict) as refused:
        _pay(session, terms, world, invoice)
    assert refused.value.code == "nothing_to_pay"


def test_a_maker_cannot_record_a_payment_even_for_their_own_invoice(session, terms, world, invoice):
    with pytest.raises(Forbidden):
        _pay(session, terms, world, invoice, who="maker")


def test_a_payment_is_audited_with_who_and_how_much(session, terms, world, invoice):
    _pay(session, terms, world, invoice, amount_won=2_834, method="cash")
    entry = session.exec(select(AuditLog).where(AuditLog.action == "invoice.payment")).one()
    assert entry.actor_id == world.id("admin") and entry.subject == f"invoice:{invoice.id}"
    assert entry.detail["amount_won"] == 2_834 and entry.detail["outstanding"] == 10_000


@pytest.mark.parametrize(
    "statement", ["UPDATE invoice_payment SET amount_won = 1", "DELETE FROM invoice_payment"]
)
def test_the_database_refuses_to_change_or_delete_a_payment(
    session, terms, world, invoice, statement
):
    _pay(session, terms, world, invoice)
    with pytest.raises(DBAPIError):
        session.execute(text(statement))
    session.rollback()
    assert _state(session, terms, invoice).paid_won == 12_834


def test_two_clerks_marking_the_same_invoice_paid_record_it_once(
    engine, session, terms, world, invoice
):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from sqlmodel import Session

    from service.models import InvoicePayment

    start = Barrier(2)

    def mark_paid(who: str) -> str:
        with Session(engine) as own:
            actor = principal_of(own, world, who)
            own.commit()
            start.wait()
            try:
                record_payment(
                    session=own, now=CURRENT_TIME, terms=terms, actor=actor, invoice_id=invoice.id
                )
                own.commit()
            except Conflict as exc:
                own.rollback()
                return str(exc.code)
            return "recorded"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(mark_paid, ["operator", "admin"]))
    assert outcomes == ["already_paid", "recorded"]
    payments = session.exec(select(InvoicePayment)).all()
    assert [p.amount_won for p in payments] == [12_834]


# -- the API ------------------------------------------------------------------------------


def test_staff_mark_an_invoice_paid_through_the_api(client, world, invoice):
    url = f"/api/v1/invoices/{invoice.id}/payments"
    answer = client.post(url, headers=world.headers("operator"), json={"method": "bank_transfer"})
    assert answer.status_code == 201, answer.json
    assert answer.json["state"] == "paid" and answer.json["paid_won"] == 12_834
    assert answer.json["due_on"] == "2026-04-01"
    assert [p["amount_won"] for p in answer.json["payments"]] == [12_834]
    again = client.post(url, headers=world.headers("admin"), json={})
    assert again.status_code == 409 and again.json["error"]["code"] == "already_paid"


def test_the_owner_reads_the_payment_state_but_cannot_record_one(client, world, invoice):
    url = f"/api/v1/invoices/{invoice.id}/payments"
    read = client.get(url, headers=world.headers("maker"))
    assert read.status_code == 200
    assert (read.json["state"], read.json["outstanding"]) == ("unpaid", 12_834)
    answer = client.post(url, headers=world.headers("maker"), json={})
    assert answer.status_code == 403 and answer.json["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    "body", [{"amount_won": 0}, {"amount_won": -5}, {"method": "bitcoin"}, {"paid_at": "today"}]
)
def test_a_bad_payment_body_is_422(client, world, invoice, body):
    answer = client.post(
        f"/api/v1/invoices/{invoice.id}/payments", headers=world.headers("admin"), json=body
    )
    assert answer.status_code == 422, answer.json
