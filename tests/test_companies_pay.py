"""Companies pay: members who bill to their company share one invoice, a section each."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from service.models import Invoice, InvoiceKind, LineBasis
from service.rules.credit_notes import credit_invoice, reissue_invoice
from tests.billing import FEB, invoice_of, issue, lines
from tests.conftest import CURRENT_TIME
from tests.factories import make_run
from tests.rental import company, contract, join


def test_members_billing_to_their_company_share_one_invoice_with_a_section_each(
    session, world, terms, held, priced
):
    firm = company(session)
    join(session, world, "maker", firm)
    join(session, world, "other", firm)
    make_run(session, world, "laser", "2026-02-10 10:00", 1800, who="maker")
    held("other", "room", "2026-02-11", "10:00-12:00")
    contract(session, world, "2026-02-15", fee=840_000, room="room", firm=firm)
    session.commit()
    (invoice,) = issue(session, terms).created
    assert (invoice.company_id, invoice.account_id) == (firm.id, None)
    found = [(x.member_account_id, x.basis, x.amount) for x in lines(session, invoice)]
    # Rent 840,000 × 14/28 = 420,000 (the company's own); laser 30 min × 22,000/h = 11,000;
    # room 2 h × 10,000/h = 20,000.
    assert found == [
        (None, LineBasis.rent, 420_000),
        (world.id("maker"), LineBasis.run_time, 11_000),
        (world.id("other"), LineBasis.booked_time, 20_000),
    ]
    assert invoice.total == 451_000


def test_a_member_who_does_not_bill_to_the_company_keeps_their_own_invoice(
    session, world, terms, held, priced
):
    firm = company(session)
    join(session, world, "maker", firm, bills=False)
    held("maker", "room", "2026-02-11", "10:00-11:00")
    invoice = invoice_of(issue(session, terms), world, "maker")
    assert invoice.company_id is None and invoice.total == 10_000


def test_a_members_own_contract_goes_in_their_section_of_the_company_invoice(session, world, terms):
    firm = company(session)
    join(session, world, "maker", firm)
    contract(session, world, "2026-02-01", fee=900_000, who="maker")
    (invoice,) = issue(session, terms).created
    (line,) = lines(session, invoice)
    assert (invoice.company_id, line.member_account_id, line.amount) == (
        firm.id,
        world.id("maker"),
        900_000,
    )


def test_issuing_again_adds_no_second_company_invoice(session, world, terms, held, priced):
    firm = company(session)
    join(session, world, "maker", firm)
    held("maker", "room", "2026-02-11", "10:00-11:00")
    (first,) = issue(session, terms).created
    again = issue(session, terms)
    assert again.created == [] and [i.id for i in again.existing] == [first.id]


def test_a_company_invoice_is_credited_and_invoiced_again_to_the_company(
    session, world, terms, held, priced
):
    firm = company(session)
    join(session, world, "maker", firm)
    held("maker", "room", "2026-02-11", "10:00-11:00")
    (invoice,) = issue(session, terms).created
    note = credit_invoice(
        session=session,
        now=CURRENT_TIME,
        terms=terms,
        invoice_id=invoice.id,
        actor_id=None,
        reason="wrong room",
    )
    again = reissue_invoice(
        session=session, now=CURRENT_TIME, terms=terms, invoice_id=invoice.id, actor_id=None
    )
    session.commit()
    assert (note.company_id, note.total) == (firm.id, -10_000)
    assert (again.company_id, again.replaces_id, again.total) == (firm.id, invoice.id, 10_000)
    (line,) = lines(session, again)
    assert line.member_account_id == world.id("maker")


@pytest.mark.parametrize("payer", ["both", "neither"])
def test_the_database_refuses_an_invoice_without_exactly_one_payer(session, world, payer):
    firm = company(session)
    row = Invoice(
        number="SF-2026-02-999999",
        account_id=world.id("maker") if payer == "both" else None,
        company_id=firm.id if payer == "both" else None,
        period=FEB,
        kind=InvoiceKind.invoice,
        issued_at=CURRENT_TIME,
        currency="KRW",
        total=0,
        vat=0,
        net=0,
    )
    session.add(row)
    with pytest.raises(DBAPIError):
        session.flush()
    session.rollback()
    assert session.exec(select(Invoice)).all() == []
