"""Billing rules: what each account owes for a month."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from service.models import (
    Invoice,
    LineBasis,
    RateBasis,
    Resource,
)
from tests.billing import FEB, S, invoice_of, issue, lines, member, plan_for
from tests.factories import make_reservation, make_run

# --- what is billed ---------------------------------------------------------


def test_machine_runs_are_billed_by_run_time_rounded_up_to_the_minute(
    session, world, terms, priced
):
    make_run(session, world, "laser", "2026-02-10 10:00", 3601, who="maker")
    make_run(session, world, "laser", "2026-02-11 10:00", 59, who="maker")
    session.commit()
    invoice = invoice_of(issue(session, terms), world, "maker")
    found = lines(session, invoice)
    assert [(x.basis, x.quantity_minutes, x.unit_price, x.amount) for x in found] == [
        (LineBasis.run_time, 61, 22_000, 22_367),
        (LineBasis.run_time, 1, 22_000, 367),
    ]
    assert (invoice.total, invoice.vat, invoice.net) == (22_734, 2_067, 20_667)
    assert invoice.currency == "KRW" and invoice.kind == "invoice" and invoice.period == FEB


def test_a_line_names_the_resource_in_korean_and_english_and_the_day_in_seoul(
    session, world, terms, priced
):
    laser = session.get(Resource, world.id("laser"))
    laser.name, laser.name_en = "CO2 레이저 커터", "CO2 laser cutter"
    session.add(laser)
    # 08:30 in Seoul on the 10th is still the 9th in UTC.
    run = make_run(session, world, "laser", "2026-02-10 08:30", 600, who="maker")
    session.commit()
    (line,) = lines(session, invoice_of(issue(session, terms), world, "maker"))
    assert line.description == "CO2 레이저 커터 / CO2 laser cutter · 2026-02-10"
    assert line.resource_id == world.id("laser") and line.usage_session_id == run.id


def test_a_run_within_its_reservation_is_billed_once_by_run_time(
    session, world, terms, held, priced
):
    booking = held("maker", "laser", "2026-02-10", "10:00-12:00")
    make_run(session, world, "laser", "2026-02-10 10:05", 1800, who="maker", reservation=booking)
    session.commit()
    (line,) = lines(session, invoice_of(issue(session, terms), world, "maker"))
    assert (line.basis, line.reservation_id, line.amount) == (
        LineBasis.run_time,
        booking.id,
        11_000,
    )


def test_the_plan_minimum_is_charged_for_a_short_run_and_an_empty_run_costs_nothing(
    session, world, terms
):
    plan_for(
        session, world, "printer", basis=RateBasis.run_time, price_per_hour=6_000, min_minutes=15
    )
    make_run(session, world, "printer", "2026-02-10 10:00", 180, who="maker")
    make_run(session, world, "printer", "2026-02-10 11:00", 0, who="maker")
    session.commit()
    (line,) = lines(session, invoice_of(issue(session, terms), world, "maker"))
    assert (line.quantity_minutes, line.amount) == (15, 1_500)


def test_rooms_are_billed_by_the_booked_time_of_reservations_that_were_not_cancelled(
    session, world, terms, held, priced
):
    for status, day in ((S.completed, 3), (S.confirmed, 4), (S.active, 5)):
        held("maker", "room", f"2026-02-0{day}", "10:00-12:00", status)
    held("maker", "room", "2026-02-06", "10:00-12:00", S.cancelled)
    held("maker", "room", "2026-02-09", "10:00-12:00", S.pending)
    session.commit()
    invoice = invoice_of(issue(session, terms), world, "maker")
    found = lines(session, invoice)
    assert [(x.basis, x.quantity_minutes, x.amount) for x in found] == [
        (LineBasis.booked_time, 120, 20_000)
    ] * 3
    assert invoice.total == 60_000


def test_a_machine_on_a_booked_time_plan_is_billed_by_its_booking_not_its_runs(
    session, world, terms, held
):
    plan_for(session, world, "cnc", basis=RateBasis.booked_time, price_per_hour=40_000)
    booking = held("maker", "cnc", "2026-02-10", "10:00-11:30")
    make_run(session, world, "cnc", "2026-02-10 10:10", 600, who="maker", reservation=booking)
    session.commit()
    (line,) = lines(session, invoice_of(issue(session, terms), world, "maker"))
    assert (line.basis, line.quantity_minutes, line.amount) == (LineBasis.booked_time, 90, 60_000)


def test_a_no_show_costs_the_configured_share_of_the_booked_time(
    session, world, terms, held, priced
):
    assert terms.no_show_percent == 50
    held("maker", "room", "2026-02-03", "10:00-12:00", S.no_show)
    held("maker", "laser", "2026-02-04", "10:00-11:00", S.no_show)
    session.commit()
    found = lines(session, invoice_of(issue(session, terms), world, "maker"))
    assert [(x.basis, x.quantity_minutes, x.amount) for x in found] == [
        (LineBasis.no_show, 120, 10_000),
        (LineBasis.no_show, 60, 11_000),
    ]
    assert "노쇼 50%" in found[0].description


def test_a_rate_plan_sets_its_own_no_show_share(session, world, terms, held):
    plan_for(
        session,
        world,
        "printer",
        basis=RateBasis.run_time,
        price_per_hour=6_000,
        no_show_percent=100,
    )
    held("maker", "printer", "2026-02-03", "10:00-10:30", S.no_show)
    session.commit()
    (line,) = lines(session, invoice_of(issue(session, terms), world, "maker"))
    assert line.amount == 3_000


def test_bookings_of_a_monthly_room_bill_no_rent_without_a_rental_contract(
    session, world, terms, held
):
    # Rent comes from rental contracts only (test_rental_billing.py), never from bookings.
    plan_for(session, world, "room", basis=RateBasis.monthly, monthly_price=300_000)
    for day, status in (("03", S.completed), ("04", S.completed), ("05", S.no_show)):
        held("maker", "room", f"2026-02-{day}", "09:00-18:00", status)
    make_reservation(session, world, "other", "room", "2026-01-31 20:00", "2026-02-01 02:00")
    session.commit()
    assert issue(session, terms).created == []


def test_a_membership_takes_its_share_off_machine_time_only_and_adds_its_fee(
    session, world, terms, held, priced
):
    member(session, world, "maker", fee=50_000, discount=30)
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    held("maker", "room", "2026-02-11", "10:00-11:00")
    held("maker", "laser", "2026-02-12", "10:00-11:00", S.no_show)
    session.commit()
    invoice = invoice_of(issue(session, terms), world, "maker")
    found = lines(session, invoice)
    assert [(x.basis, x.discount_percent, x.amount) for x in found] == [
        (LineBasis.membership, 0, 50_000),
        (LineBasis.run_time, 30, 2_567),
        (LineBasis.booked_time, 0, 10_000),
        (LineBasis.no_show, 0, 11_000),
    ]
    assert "입주기업 멤버십" in found[0].description
    assert invoice.total == 73_567


def test_a_member_without_usage_is_invoiced_the_fee(session, world, terms):
    member(session, world, "other", fee=50_000)
    (invoice,) = issue(session, terms).created
    assert (invoice.account_id, invoice.total) == (world.id("other"), 50_000)


def test_unauthorised_runs_cancelled_bookings_and_free_machines_bill_nobody(
    session, world, terms, held, priced
):
    make_run(session, world, "laser", "2026-02-10 10:00", 600)  # nobody known
    make_run(session, world, "laser", "2026-02-10 11:00", 600, who="maker", unauthorised=True)
    make_run(session, world, "cnc", "2026-02-10 12:00", 600, who="other")  # 0 won/h
    held("other", "room", "2026-02-11", "10:00-11:00", S.cancelled)
    session.commit()
    done = issue(session, terms)
    assert done.created == [] and done.existing == []
    assert session.exec(select(func.count()).select_from(Invoice)).one() == 0


def test_the_month_runs_from_midnight_to_midnight_in_seoul(session, world, terms, priced):
    for start in ("2026-01-31 23:59", "2026-02-01 00:00", "2026-02-28 23:59", "2026-03-01 00:00"):
        make_run(session, world, "laser", start, 60, who="maker")
    session.commit()
    found = lines(session, invoice_of(issue(session, terms), world, "maker"))
    assert [x.description[-10:] for x in found] == ["2026-02-01", "2026-02-28"]
