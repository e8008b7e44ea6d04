"""Prices and memberships in time: billing uses what was valid when the usage happened."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import MetaData, insert, text
from sqlmodel import select

from service.db import make_engine
from service.errors import Conflict, RuleViolation
from service.migrate import upgrade
from service.models import AuditLog, LineBasis, RateBasis, RatePlanPrice, Resource
from service.models.plan_shapes import MembershipEnd, MembershipPriceCreate, RatePriceCreate
from service.rules import admin_memberships, admin_plans
from service.rules.billing import draft_lines, estimate_booking
from service.rules.pricing import parse_period
from tests import pg
from tests.billing import invoice_of, issue, lines, member, plan_for
from tests.factories import make_run, principal_of

OCT, NOV, DEC = "2026-10", "2026-11", "2026-12"
AFTER_OCT = datetime(2026, 11, 2, tzinfo=UTC)
AFTER_NOV = datetime(2026, 12, 2, tzinfo=UTC)
AFTER_DEC = datetime(2027, 1, 2, tzinfo=UTC)


def _reprice(session, world, plan, day: date, per_hour: int, now=AFTER_OCT):
    admin = principal_of(session, world, "admin")
    body = RatePriceCreate(valid_from=day, price_per_hour=per_hour, no_show_percent=50)
    admin_plans.add_rate_price(session=session, now=now, actor=admin, plan_id=plan.id, body=body)
    session.commit()


def _amounts(session, world, done, who="maker"):
    return [(x.basis, x.unit_price, x.amount) for x in lines(session, invoice_of(done, world, who))]


def test_a_price_change_in_november_does_not_reprice_october(session, world, terms):
    plan = plan_for(session, world, "laser", basis=RateBasis.run_time, price_per_hour=22_000)
    # 23:30 on 31 October in Seoul (14:30 UTC): October, at October's price.
    make_run(session, world, "laser", "2026-10-31 23:30", 1800, who="maker")
    # 00:10 on 1 November in Seoul is still 31 October in UTC: November's price.
    make_run(session, world, "laser", "2026-11-01 00:10", 1800, who="maker")
    session.commit()
    october = issue(session, terms, period=OCT, now=AFTER_OCT)
    _reprice(session, world, plan, date(2026, 11, 1), 30_000)
    # 30 min at 22,000 won/h = 11,000; at 30,000 won/h = 15,000.
    assert _amounts(session, world, october) == [(LineBasis.run_time, 22_000, 11_000)]
    again = draft_lines(session=session, period=parse_period(OCT, terms.zone), terms=terms)
    assert [line.amount for line in again[world.id("maker")]] == [11_000]
    november = issue(session, terms, period=NOV, now=AFTER_NOV)
    assert _amounts(session, world, november) == [(LineBasis.run_time, 30_000, 15_000)]


def test_a_changed_price_keeps_the_old_version_closed_not_edited(session, world, terms):
    plan = plan_for(session, world, "laser", basis=RateBasis.run_time, price_per_hour=22_000)
    _reprice(session, world, plan, date(2026, 11, 1), 30_000)
    _reprice(session, world, plan, date(2026, 12, 1), 33_000)
    found = session.exec(select(RatePlanPrice).where(RatePlanPrice.rate_plan_id == plan.id)).all()
    spans = sorted((v.valid_from, v.valid_to, v.price_per_hour) for v in found)
    assert spans == [
        (date(2026, 11, 1), date(2026, 12, 1), 30_000),
        (date(2026, 12, 1), None, 33_000),
    ]
    assert session.get(type(plan), plan.id).price_per_hour == 22_000
    make_run(session, world, "laser", "2026-10-15 10:00", 3600, who="maker")
    make_run(session, world, "laser", "2026-11-15 10:00", 3600, who="maker")
    make_run(session, world, "laser", "2026-12-15 10:00", 3600, who="maker")
    session.commit()
    by_month = [
        [
            line.amount
            for line in draft_lines(
                session=session, period=parse_period(month, terms.zone), terms=terms
            )[world.id("maker")]
        ]
        for month in (OCT, NOV, DEC)
    ]
    assert by_month == [[22_000], [30_000], [33_000]]
    actions = session.exec(select(AuditLog.action).where(AuditLog.action == "rate_plan.price"))
    assert len(actions.all()) == 2


def test_a_price_from_a_day_of_an_invoiced_month_is_refused(session, world, terms):
    plan = plan_for(session, world, "laser", basis=RateBasis.run_time, price_per_hour=22_000)
    make_run(session, world, "laser", "2026-10-20 10:00", 600, who="maker")
    session.commit()
    issue(session, terms, period=OCT, now=AFTER_OCT)
    with pytest.raises(Conflict) as refused:
        _reprice(session, world, plan, date(2026, 10, 25), 30_000)
    assert refused.value.code == "billed_period"
    session.rollback()
    assert session.exec(select(RatePlanPrice)).all() == []


def test_a_new_price_must_start_after_the_latest_one(session, world):
    plan = plan_for(session, world, "laser", basis=RateBasis.run_time, price_per_hour=22_000)
    _reprice(session, world, plan, date(2026, 12, 1), 30_000)
    with pytest.raises(RuleViolation) as refused:
        _reprice(session, world, plan, date(2026, 11, 1), 25_000)
    assert refused.value.code == "not_after_latest_price"


def test_a_membership_taken_in_november_charges_no_october_fee(session, world, terms, priced):
    member(session, world, "maker", fee=50_000, discount=30, since=date(2026, 11, 15))
    make_run(session, world, "laser", "2026-10-20 10:00", 3600, who="maker")
    make_run(session, world, "laser", "2026-11-10 10:00", 3600, who="maker")
    make_run(session, world, "laser", "2026-11-20 10:00", 3600, who="maker")
    session.commit()
    october = issue(session, terms, period=OCT, now=AFTER_OCT)
    # One hour at 22,000 won/h, no membership yet.
    assert _amounts(session, world, october) == [(LineBasis.run_time, 22_000, 22_000)]
    november = issue(session, terms, period=NOV, now=AFTER_NOV)
    # The whole month's fee; the run before the 15th at full price, the one after at 70 %:
    # 22,000 × 70 / 100 = 15,400.
    assert _amounts(session, world, november) == [
        (LineBasis.membership, 50_000, 50_000),
        (LineBasis.run_time, 22_000, 22_000),
        (LineBasis.run_time, 22_000, 15_400),
    ]
    assert invoice_of(november, world, "maker").total == 87_400


def test_a_membership_ended_in_november_is_charged_for_november_not_december(
    session, world, terms, priced
):
    plan = member(session, world, "maker", fee=50_000, discount=30, since=date(2026, 9, 1))
    admin = principal_of(session, world, "admin")
    (held,) = admin_memberships.memberships(
        session=session, actor=admin, account_id=world.id("maker")
    )
    admin_memberships.end_membership(
        session=session,
        now=AFTER_OCT,
        actor=admin,
        account_id=world.id("maker"),
        membership_id=held[0].id,
        body=MembershipEnd(valid_to=date(2026, 11, 10)),
    )
    make_run(session, world, "laser", "2026-11-09 10:00", 3600, who="maker")
    make_run(session, world, "laser", "2026-11-10 10:00", 3600, who="maker")
    make_run(session, world, "laser", "2026-12-01 10:00", 3600, who="maker")
    session.commit()
    november = issue(session, terms, period=NOV, now=AFTER_NOV)
    assert _amounts(session, world, november) == [
        (LineBasis.membership, 50_000, 50_000),
        (LineBasis.run_time, 22_000, 15_400),
        (LineBasis.run_time, 22_000, 22_000),
    ]
    december = issue(session, terms, period=DEC, now=AFTER_DEC)
    assert _amounts(session, world, december) == [(LineBasis.run_time, 22_000, 22_000)]
    assert plan.name in lines(session, invoice_of(november, world, "maker"))[0].description


def test_a_membership_fee_change_applies_from_its_month(session, world, terms):
    plan = member(session, world, "maker", fee=50_000, discount=30, since=date(2026, 1, 1))
    admin = principal_of(session, world, "admin")
    admin_plans.add_membership_price(
        session=session,
        now=AFTER_OCT,
        actor=admin,
        plan_id=plan.id,
        body=MembershipPriceCreate(
            valid_from=date(2026, 12, 1), monthly_fee=60_000, discount_percent=20
        ),
    )
    session.commit()
    fees = [
        [
            (line.basis, line.amount)
            for line in draft_lines(
                session=session, period=parse_period(month, terms.zone), terms=terms
            )[world.id("maker")]
        ]
        for month in (NOV, DEC)
    ]
    assert fees == [[(LineBasis.membership, 50_000)], [(LineBasis.membership, 60_000)]]


def _old_database(kind: str, tmp_path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with pg.server() as admin, pg.database(admin, f"smartfab_prices_{os.getpid()}") as url:
        yield url


@pytest.mark.sqlite_only
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_migration_turns_each_membership_into_one_held_since_2000(kind, tmp_path):
    for url in _old_database(kind, tmp_path):
        engine = make_engine(url)
        upgrade(engine, "0014")
        tables = MetaData()
        tables.reflect(engine, only=["account", "membership_plan"])
        account, plan = tables.tables["account"], tables.tables["membership_plan"]
        with engine.begin() as conn:
            plan_id = conn.execute(
                insert(plan).values(name="Club", monthly_fee=50_000, discount_percent=10)
            ).inserted_primary_key[0]
            for email, held in (("a@example.com", plan_id), ("b@example.com", None)):
                conn.execute(
                    insert(account).values(
                        email=email,
                        name=email,
                        password_hash="",
                        active=True,
                        ical_secret=email,
                        membership_plan_id=held,
                    )
                )
        upgrade(engine, "0017")
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT membership_plan_id, valid_from, valid_to FROM account_membership")
            ).all()
        engine.dispose()
        assert [(r[0], str(r[1]), r[2]) for r in rows] == [(plan_id, "2000-01-01", None)]


def test_a_booking_estimate_uses_the_price_and_membership_of_its_day(session, world, terms):
    plan = plan_for(session, world, "laser", basis=RateBasis.run_time, price_per_hour=22_000)
    _reprice(session, world, plan, date(2026, 12, 1), 30_000)
    member(session, world, "maker", fee=0, discount=10, since=date(2026, 12, 15))
    laser = session.get(Resource, world.id("laser"))

    def cost(day: int) -> int:
        start = datetime(2026, 12, day, 1, tzinfo=UTC)  # 10:00 in Seoul
        return estimate_booking(
            session=session,
            terms=terms,
            resource=laser,
            account_id=world.id("maker"),
            start=start,
            end=start + timedelta(hours=1),
        ).amount

    # 1 h at 30,000 won/h from 1 December; from the 15th 10 % off: 27,000.
    assert (cost(1), cost(14), cost(15)) == (30_000, 30_000, 27_000)
