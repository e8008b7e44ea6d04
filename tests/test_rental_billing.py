"""Rent from rental contracts: prorated by day, billed whether or not the tenant books."""

from __future__ import annotations

from datetime import UTC, datetime

from service.models import LineBasis, RateBasis
from tests.billing import FEB, S, invoice_of, issue, lines, plan_for
from tests.rental import company, contract

APRIL, MAY_2 = "2026-04", datetime(2026, 5, 2, tzinfo=UTC)
JAN, FEB_2 = "2026-01", datetime(2026, 2, 2, tzinfo=UTC)


def test_a_contract_from_the_11th_of_a_30_day_month_bills_20_30ths_of_the_fee(
    session, world, terms
):
    contract(session, world, "2026-04-11", fee=900_000, who="maker")
    (line,) = lines(session, invoice_of(issue(session, terms, APRIL, MAY_2), world, "maker"))
    # 900,000 × 20 / 30 = 600,000 won, VAT included.
    assert (line.basis, line.unit_price, line.amount) == (LineBasis.rent, 900_000, 600_000)
    assert "20/30" in line.description and line.resource_id == world.id("room")


def test_a_tenant_who_never_books_pays_the_whole_month(session, world, terms):
    contract(session, world, "2026-01-15", fee=900_000, who="maker")
    invoice = invoice_of(issue(session, terms), world, "maker")
    (line,) = lines(session, invoice)
    assert line.amount == 900_000 and "28/28" in line.description
    # VAT inside 900,000 at 10 %: 900,000 / 11 = 81,818.18 → 81,818.
    assert (invoice.total, invoice.vat, invoice.net) == (900_000, 81_818, 818_182)


def test_a_contract_ending_mid_month_bills_its_days_in_each_month_rounded_half_up(
    session, world, terms
):
    contract(session, world, "2026-01-20", "2026-02-10", fee=1_000_000, who="maker")
    (jan,) = lines(session, invoice_of(issue(session, terms, JAN, FEB_2), world, "maker"))
    (feb,) = lines(session, invoice_of(issue(session, terms), world, "maker"))
    # January 20–31: 1,000,000 × 12 / 31 = 387,096.77 → 387,097.
    # February 1–10: 1,000,000 × 10 / 28 = 357,142.86 → 357,143.
    assert (jan.amount, feb.amount) == (387_097, 357_143)


def test_a_half_won_of_rent_rounds_up(session, world, terms):
    contract(session, world, "2026-02-28", "2026-02-28", fee=700_014, who="maker")
    (line,) = lines(session, invoice_of(issue(session, terms), world, "maker"))
    # 700,014 × 1 / 28 = 25,000.5 → 25,001.
    assert line.amount == 25_001


def test_a_contract_starting_after_the_month_bills_nothing_in_it(session, world, terms):
    contract(session, world, "2026-03-01", fee=900_000, who="maker")
    assert issue(session, terms).created == []


def test_bookings_of_a_rented_monthly_room_add_nothing_to_the_rent(session, world, terms, held):
    plan_for(session, world, "room", basis=RateBasis.monthly, monthly_price=300_000)
    contract(session, world, "2026-02-01", fee=900_000, who="maker")
    held("maker", "room", "2026-02-03", "09:00-18:00")
    held("maker", "room", "2026-02-04", "09:00-18:00", S.no_show)
    (line,) = lines(session, invoice_of(issue(session, terms), world, "maker"))
    assert (line.basis, line.amount) == (LineBasis.rent, 900_000)


def test_a_company_contract_bills_the_company_and_names_it(session, world, terms):
    firm = company(session)
    contract(session, world, "2026-02-15", fee=840_000, firm=firm)
    (invoice,) = issue(session, terms).created
    assert (invoice.company_id, invoice.account_id, invoice.period) == (firm.id, None, FEB)
    (line,) = lines(session, invoice)
    # 840,000 × 14 / 28 = 420,000; the company's own line, in no member's section.
    assert (line.amount, line.member_account_id) == (420_000, None)
