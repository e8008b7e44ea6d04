"""A month's invoices for accounting (CSV) and the electronic tax invoice (전자세금계산서)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from service.models import Account, Company, Invoice, InvoiceKind
from service.rules.credit_notes import credit_invoice
from service.rules.invoice_exports import writing_date
from tests.billing import FEB, issue, two_laser_runs_and_a_lathe_run
from tests.conftest import CURRENT_TIME

BOM = "\ufeff"


@pytest.fixture
def february(session, terms, world) -> dict[str, Invoice]:
    two_laser_runs_and_a_lathe_run(session, world)
    done = issue(session, terms)
    return {
        who: next(i for i in done.created if i.account_id == world.id(who))
        for who in ("maker", "other")
    }


def _rows(answer) -> list[dict[str, str]]:
    text = answer.get_data(as_text=True)
    assert text.startswith(BOM), "Excel needs the BOM to read UTF-8"
    return list(csv.DictReader(io.StringIO(text[1:])))


def _get(client, world, path, who="admin", period=FEB):
    return client.get(path, headers=world.headers(who), query_string={"period": period})


def test_the_ledger_has_one_row_per_line_with_supply_and_vat(client, world, february):
    answer = _get(client, world, "/api/v1/invoices/export.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = _rows(answer)
    maker = [r for r in rows if r["invoice_number"] == february["maker"].number]
    # Laser 10 min: 3,667 won; 25 min: 9,167 won (VAT included, 22,000 won/h).
    # VAT of each: 3,667/11 = 333.4 → 333; 9,167/11 = 833.4 → 833: 1,166 against the
    # invoice's 12,834/11 = 1,166.7 → 1,167; the won left goes to the larger line.
    assert [
        (r["quantity"], r["unit"], r["supply_amount"], r["vat"], r["total"]) for r in maker
    ] == [
        ("10", "min", "3334", "333", "3667"),
        ("25", "min", "8333", "834", "9167"),
    ]
    assert {r["company"] for r in maker} == {"한결수제화"}
    assert {r["business_number"] for r in maker} == {"206-12-34567"}
    assert {(r["due_on"], r["payment_state"]) for r in maker} == {("2026-04-01", "unpaid")}
    (lathe,) = [r for r in rows if r["invoice_number"] == february["other"].number]
    # 90 minutes at 20,000 won/h = 30,000 won; VAT 30,000/11 = 2,727.3 → 2,727.
    assert (lathe["supply_amount"], lathe["vat"], lathe["total"]) == ("27273", "2727", "30000")
    assert lathe["company"] == "" and lathe["account_email"] == "other@example.com"
    assert sum(int(r["supply_amount"]) + int(r["vat"]) for r in rows) == 12_834 + 30_000


def test_the_tax_invoice_names_both_parties_and_the_last_day_of_the_month(client, world, february):
    answer = _get(client, world, "/api/v1/invoices/etax.json")
    assert answer.status_code == 200
    docs = {d["invoice_number"]: d for d in answer.json}
    maker = docs[february["maker"].number]
    assert maker["writing_date"] == "2026-02-28"
    assert (maker["kind"], maker["receipt"]) == ("일반", "청구")
    assert maker["supplier"] == {
        "business_number": "101-82-12348",
        "name": "서울시 광역 소공인특화지원센터",
        "representative": "정하늘",
        "address": "서울특별시 성동구 성수이로 (성수사거리)",
        "email": "billing@smartfab.example",
    }
    assert maker["customer"] == {
        "business_number": "206-12-34567",
        "name": "한결수제화",
        "representative": "김한결",
        "address": "서울특별시 성동구 성수이로 78, 2층",
        # The company's own address for tax invoices, not its member's.
        "email": "tax@hangyeol-shoes.example",
    }
    # 12,834 won: supply 11,667 and tax 12,834/11 = 1,166.7 → 1,167.
    assert (maker["supply_amount"], maker["tax"], maker["total"]) == (11_667, 1_167, 12_834)
    assert [(i["supply_amount"], i["tax"], i["day"]) for i in maker["items"]] == [
        (3_334, 333, "2026-02-28"),
        (8_333, 834, "2026-02-28"),
    ]
    other = docs[february["other"].number]
    # A person without a company: billed by name, no registration number.
    assert other["customer"]["business_number"] == ""
    assert other["customer"]["name"] == other["customer"]["representative"] == "other"


def test_a_company_without_an_email_is_sent_its_tax_invoice_at_its_members(
    client, world, february, session
):
    firm = session.get(Company, session.get(Account, world.id("maker")).company_id)
    firm.email = ""
    session.add(firm)
    session.commit()
    docs = {d["invoice_number"]: d for d in _get(client, world, "/api/v1/invoices/etax.json").json}
    assert docs[february["maker"].number]["customer"]["email"] == "maker@example.com"


def test_the_tax_invoice_csv_has_one_row_per_item_in_the_upload_form(client, world, february):
    rows = _rows(_get(client, world, "/api/v1/invoices/etax.csv"))
    assert len(rows) == 3
    first = rows[0]
    assert first["작성일자"] == "20260228" and first["공급자 등록번호"] == "101-82-12348"
    assert first["공급받는자 상호"] == "한결수제화" and first["공급받는자 성명"] == "김한결"
    assert (first["공급가액"], first["세액"], first["공급가액 합계"], first["세액 합계"]) == (
        "3334",
        "333",
        "11667",
        "1167",
    )


def test_a_paid_invoice_is_a_receipt_and_a_credit_note_a_correction_of_its_day(
    client, session, terms, world, february
):
    paid = client.post(
        f"/api/v1/invoices/{february['other'].id}/payments",
        headers=world.headers("admin"),
        json={},
    )
    assert paid.status_code == 201
    note = credit_invoice(
        session=session,
        now=datetime(2026, 3, 20, 1, 0, tzinfo=UTC),
        terms=terms,
        invoice_id=february["maker"].id,
        actor_id=world.id("admin"),
        reason="wrong rate",
    )
    session.commit()
    docs = {d["invoice_number"]: d for d in _get(client, world, "/api/v1/invoices/etax.json").json}
    assert docs[february["other"].number]["receipt"] == "영수"
    correction = docs[note.number]
    assert correction["kind"] == "수정" and correction["writing_date"] == "2026-03-20"
    assert (correction["supply_amount"], correction["tax"]) == (-11_667, -1_167)
    assert [(i["supply_amount"], i["tax"]) for i in correction["items"]] == [
        (-3_334, -333),
        (-8_333, -834),
    ]
    assert february["maker"].number in correction["note"]


def test_an_operator_exports_the_invoices_with_a_line_at_their_site(client, world, february):
    rows = _rows(_get(client, world, "/api/v1/invoices/export.csv", who="operator"))
    assert {r["invoice_number"] for r in rows} == {february["maker"].number}
    rows = _rows(_get(client, world, "/api/v1/invoices/export.csv", who="mullae_operator"))
    assert {r["invoice_number"] for r in rows} == {february["other"].number}


@pytest.mark.parametrize("path", ["export.csv", "etax.csv", "etax.json"])
def test_makers_may_not_export_and_a_bad_period_is_422(client, world, february, path):
    refused = _get(client, world, f"/api/v1/invoices/{path}", who="maker")
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    bad = _get(client, world, f"/api/v1/invoices/{path}", period="2026-2")
    assert bad.status_code == 422 and "error" in bad.json


def test_a_month_without_invoices_exports_just_the_header(client, world, february):
    text = _get(client, world, "/api/v1/invoices/export.csv", period="2026-01").get_data(
        as_text=True
    )
    assert text.count("\r\n") == 1 and text.startswith(BOM + "invoice_number,")


@pytest.mark.parametrize(
    "period,last_day",
    [
        ("2026-02", date(2026, 2, 28)),
        ("2028-02", date(2028, 2, 29)),
        ("2026-12", date(2026, 12, 31)),
    ],
)
def test_the_writing_date_is_the_last_day_of_the_month_billed(terms, period, last_day):
    invoice = Invoice(
        number="x",
        account_id=1,
        period=period,
        kind=InvoiceKind.invoice,
        issued_at=CURRENT_TIME,
        currency="KRW",
        total=0,
        vat=0,
        net=0,
    )
    assert writing_date(invoice, terms) == last_day


def test_text_a_spreadsheet_would_run_as_a_formula_is_quoted_and_numbers_are_not(
    client, session, world, february
):
    from service.models import Company

    company = session.get(Company, session.get(Account, world.id("maker")).company_id)
    company.name = '=HYPERLINK("http://evil.example","x")'
    session.add(company)
    session.commit()
    rows = _rows(_get(client, world, "/api/v1/invoices/export.csv"))
    maker = [r for r in rows if r["invoice_number"] == february["maker"].number]
    assert {r["company"] for r in maker} == {'\'=HYPERLINK("http://evil.example","x")'}
    etax = _rows(_get(client, world, "/api/v1/invoices/etax.csv"))
    assert etax[0]["공급받는자 상호"].startswith("'=")
