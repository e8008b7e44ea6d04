"""A company's invoice through adjustments, reconcile and the accounting files.

The laser costs 22,000 won/h by run time. February is issued on 2 March
(CURRENT_TIME), March on 1 April.
"""

from __future__ import annotations

import csv
import io

import pytest

from service.models import LineBasis
from tests.billing import issue, lines
from tests.factories import make_run, seoul
from tests.pages import login
from tests.rental import company, contract, join

APRIL = seoul("2026-04-01 00:00")


@pytest.fixture
def firm_february(session, world, terms, priced):
    """The maker bills to the firm; the firm rents the room from 15 Feb at 840,000 won a month.

    February: rent 840,000 × 14/28 = 420,000 and the maker's 10-min run 3,667 = 423,667.
    """
    firm = company(session)
    join(session, world, "maker", firm)
    contract(session, world, "2026-02-15", fee=840_000, room="room", firm=firm)
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    session.commit()
    (invoice,) = issue(session, terms).created
    assert (invoice.company_id, invoice.total) == (firm.id, 423_667)
    return firm, invoice


def test_a_company_month_reconciles_to_zero_with_its_rent_and_members(client, world, firm_february):
    answer = client.get("/api/v1/invoices/reconcile?period=2026-02", headers=world.headers("admin"))
    assert answer.status_code == 200, answer.json
    # Rent and run are billed today as invoiced, on the company: nothing to adjust.
    assert (answer.json["invoiced"], answer.json["billed_today"]) == (423_667, 423_667)
    assert answer.json["difference"] == 0
    firm, _ = firm_february
    assert {(x["company_id"], x["account_id"]) for x in answer.json["items"]} == {(firm.id, None)}


def test_late_usage_of_a_member_is_adjusted_on_the_companys_next_invoice(
    app, client, session, world, terms, firm_february
):
    firm, _ = firm_february
    late = make_run(session, world, "laser", "2026-02-20 10:00", 1_800, who="maker")
    session.commit()
    app.config["CLOCK"] = lambda: APRIL
    gap = client.get("/api/v1/invoices/reconcile?period=2026-02", headers=world.headers("admin"))
    # 30 min × 22,000 won/h = 11,000 won, owed by the company.
    assert gap.json["difference"] == 11_000
    (march,) = issue(session, terms, "2026-03", APRIL).created
    found = [(x.basis, x.member_account_id, x.amount) for x in lines(session, march)]
    # March: the whole month's rent 840,000 (the company's own) and the member's adjustment.
    assert found == [
        (LineBasis.rent, None, 840_000),
        (LineBasis.adjustment, world.id("maker"), 11_000),
    ]
    assert (march.company_id, march.account_id, march.total) == (firm.id, None, 851_000)
    assert lines(session, march)[1].usage_session_id == late.id
    after = client.get("/api/v1/invoices/reconcile?period=2026-02", headers=world.headers("admin"))
    assert (after.json["invoiced"], after.json["difference"]) == (434_667, 0)


def test_the_tax_invoice_and_the_ledger_name_the_paying_company(client, world, firm_february):
    _, invoice = firm_february
    headers, period = world.headers("admin"), {"period": "2026-02"}
    docs = client.get("/api/v1/invoices/etax.json", headers=headers, query_string=period).json
    (doc,) = [d for d in docs if d["invoice_number"] == invoice.number]
    assert doc["customer"] == {
        "business_number": "123-45-67890",
        "name": "성수가죽공방",
        "representative": "김성수",
        "address": "",
        "email": "",
    }
    text = client.get("/api/v1/invoices/export.csv", headers=headers, query_string=period)
    rows = [
        r
        for r in csv.DictReader(io.StringIO(text.get_data(as_text=True)[1:]))
        if r["invoice_number"] == invoice.number
    ]
    # The rent is the company's own (no member); the run names the member it was for.
    assert [(r["company"], r["account_email"], r["total"]) for r in rows] == [
        ("성수가죽공방", "", "420000"),
        ("성수가죽공방", "maker@example.com", "3667"),
    ]


@pytest.mark.sqlite_only
def test_a_member_opens_the_pdf_of_the_company_invoice(client, world, firm_february):
    _, invoice = firm_february
    login(client)
    answer = client.get(f"/me/invoices/{invoice.id}.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
