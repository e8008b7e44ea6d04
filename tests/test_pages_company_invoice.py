"""A company's invoice as its members read it: the company named, a section per member."""

from __future__ import annotations

import re

import pytest

from tests.billing import issue
from tests.factories import make_run
from tests.pages import login
from tests.rental import company, contract, join

pytestmark = pytest.mark.sqlite_only


def _text(answer) -> str:
    return re.sub(r"\s+", " ", answer.get_data(as_text=True))


@pytest.fixture
def company_invoice(session, world, terms, priced) -> int:
    """February: the firm rents the room from the 15th; the maker ran the laser 30 minutes."""
    firm = company(session)
    join(session, world, "maker", firm)
    contract(session, world, "2026-02-15", fee=840_000, firm=firm)
    make_run(session, world, "laser", "2026-02-10 10:00", 1800, who="maker")
    session.commit()
    (invoice,) = issue(session, terms).created
    return invoice.id


def test_a_member_reads_the_company_invoice_with_its_number_representative_and_sections(
    client, world, company_invoice
):
    login(client)
    listed = _text(client.get("/me/invoices"))
    assert f"/me/invoices/{company_invoice}" in listed and "성수가죽공방" in listed
    page = _text(client.get(f"/me/invoices/{company_invoice}"))
    assert "성수가죽공방" in page and "123-45-67890" in page and "김성수" in page
    assert "사업자등록번호" in page and "대표자" in page
    # The company's own rent, 840,000 × 14 / 28 = 420,000; the maker's laser 11,000.
    assert "회사 공통 청구" in page and "420,000원" in page and "일할 계산" in page
    assert "maker" in page and "11,000원" in page and "431,000원" in page


def test_another_maker_cannot_read_the_company_invoice(client, world, company_invoice):
    login(client, email="other@example.com")
    assert client.get(f"/me/invoices/{company_invoice}").status_code == 404
