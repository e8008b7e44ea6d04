"""A resource's own rate and plan are dated: a change never re-prices a past month."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from service.db import make_engine
from service.errors import Conflict
from service.migrate import upgrade
from service.models import (
    AuditLog,
    ChargeUnit,
    LineBasis,
    RateBasis,
    RatePlan,
    Resource,
    ResourcePricing,
)
from service.models.admin import ResourceUpdate
from service.rules import admin_catalogue
from service.rules.billing import draft_lines, estimate_booking
from service.rules.pricing import parse_period
from tests import pg
from tests.billing import invoice_of, issue, lines, plan_for
from tests.factories import build_world, make_reservation, make_run, principal_of, refused

OCT, NOV, DEC = "2026-10", "2026-11", "2026-12"
AFTER_OCT = datetime(2026, 11, 2, tzinfo=UTC)
AFTER_NOV = datetime(2026, 12, 2, tzinfo=UTC)


def _change(session, world, resource: str, now=AFTER_OCT, **fields):
    admin = principal_of(session, world, "admin")
    admin_catalogue.update_resource(
        session=session,
        now=now,
        actor=admin,
        resource_id=world.id(resource),
        body=ResourceUpdate(**fields),
    )
    session.commit()


def _month(session, world, terms, month: str, who: str = "maker") -> list[int]:
    drafted = draft_lines(session=session, period=parse_period(month, terms.zone), terms=terms)
    return [line.amount for line in drafted.get(world.id(who), [])]


def _spans(session, world, resource: str):
    found = session.exec(
        select(ResourcePricing).where(ResourcePricing.resource_id == world.id(resource))
    ).all()
    return sorted((v.valid_from, v.valid_to, v.rate_plan_id, v.rate_per_hour) for v in found)


def test_a_rate_change_in_november_does_not_reprice_october(session, world, terms):
    # The laser has no plan: 22,000 won/h by run time.
    make_run(session, world, "laser", "2026-10-20 10:00", 3600, who="maker")
    make_run(session, world, "laser", "2026-11-20 10:00", 1800, who="maker")
    session.commit()
    october = issue(session, terms, period=OCT, now=AFTER_OCT)
    _change(session, world, "laser", rate_per_hour=30_000, price_from=date(2026, 11, 1))
    # 1 h at 22,000 won/h = 22,000 (issued, and drafted again); 30 min at 30,000 = 15,000.
    issued = lines(session, invoice_of(october, world, "maker"))
    assert [(x.basis, x.unit_price, x.amount) for x in issued] == [
        (LineBasis.run_time, 22_000, 22_000)
    ]
    assert _month(session, world, terms, OCT) == [22_000]
    assert _month(session, world, terms, NOV) == [15_000]
    assert _spans(session, world, "laser") == [
        (date(2000, 1, 1), date(2026, 11, 1), None, 22_000),
        (date(2026, 11, 1), None, None, 30_000),
    ]
    assert session.get(Resource, world.id("laser")).rate_per_hour == 30_000
    [entry] = session.exec(select(AuditLog).where(AuditLog.action == "resource.price")).all()
    assert entry.detail["valid_from"] == "2026-11-01" and entry.detail["before"] == [None, 22_000]


def test_moving_a_resource_to_another_plan_from_november_leaves_october_at_the_old(
    session, world, terms
):
    old = plan_for(session, world, "laser", basis=RateBasis.run_time, price_per_hour=20_000)
    new = RatePlan(name="night", basis=RateBasis.run_time, price_per_hour=40_000)
    session.add(new)
    session.commit()
    make_run(session, world, "laser", "2026-10-31 10:00", 3600, who="maker")
    make_run(session, world, "laser", "2026-11-01 10:00", 1800, who="maker")
    make_run(session, world, "laser", "2026-12-01 10:00", 1800, who="maker")
    session.commit()
    _change(session, world, "laser", rate_plan_id=new.id, price_from=date(2026, 11, 1))
    # Off any plan from December: the laser's own 22,000 won/h.
    _change(session, world, "laser", rate_plan_id=None, price_from=date(2026, 12, 1))
    # 1 h at 20,000 = 20,000; 30 min at 40,000 = 20,000; 30 min at 22,000 = 11,000.
    assert _month(session, world, terms, OCT) == [20_000]
    assert _month(session, world, terms, NOV) == [20_000]
    assert _month(session, world, terms, DEC) == [11_000]
    assert _spans(session, world, "laser") == [
        (date(2000, 1, 1), date(2026, 11, 1), old.id, 22_000),
        (date(2026, 11, 1), date(2026, 12, 1), new.id, 22_000),
        (date(2026, 12, 1), None, None, 22_000),
    ]
    assert session.get(Resource, world.id("laser")).rate_plan_id is None


def test_a_rate_from_a_day_of_an_invoiced_month_is_refused(session, world, terms):
    make_run(session, world, "laser", "2026-10-20 10:00", 600, who="maker")
    session.commit()
    issue(session, terms, period=OCT, now=AFTER_OCT)
    with pytest.raises(Conflict) as refused_change:
        _change(session, world, "laser", rate_per_hour=30_000, price_from=date(2026, 10, 25))
    assert refused_change.value.code == "billed_period"
    session.rollback()
    assert _spans(session, world, "laser") == []
    assert session.get(Resource, world.id("laser")).rate_per_hour == 22_000
    # 10 min at 22,000 won/h = 3,667 (3,666.67 rounded half up).
    assert _month(session, world, terms, OCT) == [3_667]


def test_the_api_refuses_a_billed_month_and_defaults_to_the_next_day(client, session, world):
    # The clock stands at 2 March 2026 00:00 UTC, 09:00 in Seoul: the version starts 3 March.
    answer = client.patch(
        f"/api/v1/resources/{world.id('laser')}",
        headers=world.headers("admin"),
        json={"rate_per_hour": 25_000},
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["rate_per_hour"] == 25_000
    session.expire_all()
    assert _spans(session, world, "laser") == [
        (date(2000, 1, 1), date(2026, 3, 3), None, 22_000),
        (date(2026, 3, 3), None, None, 25_000),
    ]
    earlier = client.patch(
        f"/api/v1/resources/{world.id('laser')}",
        headers=world.headers("admin"),
        json={"rate_per_hour": 26_000, "price_from": "2026-03-01"},
    )
    refused(earlier, 422, "not_after_latest_price")
    unknown = client.patch(
        f"/api/v1/resources/{world.id('laser')}",
        headers=world.headers("admin"),
        json={"rate_plan_id": 999_999},
    )
    refused(unknown, 422, "unknown_rate_plan")
    created = client.post(
        "/api/v1/resources",
        headers=world.headers("admin"),
        json={
            "site_id": world.sites["seongsu"].id,
            "kind": "machine",
            "slug": "uv-1",
            "name": "UV",
            "rate_plan_id": 999_999,
        },
    )
    refused(created, 422, "unknown_rate_plan")


def test_the_booking_estimate_uses_the_rate_of_the_booking_day(session, world, terms):
    _change(session, world, "laser", rate_per_hour=30_000, price_from=date(2026, 12, 1))
    laser = session.get(Resource, world.id("laser"))

    def cost(month: int, day: int) -> int:
        start = datetime(2026, month, day, 1, tzinfo=UTC)  # 10:00 in Seoul
        return estimate_booking(
            session=session,
            terms=terms,
            resource=laser,
            account_id=world.id("maker"),
            start=start,
            end=start + timedelta(minutes=90),
        ).amount

    # 90 min at 22,000 won/h = 33,000; at 30,000 won/h = 45,000.
    assert (cost(11, 30), cost(12, 1)) == (33_000, 45_000)


def _old_database(kind: str, tmp_path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with pg.server() as admin, pg.database(admin, f"smartfab_rates_{os.getpid()}") as url:
        yield url


@pytest.mark.sqlite_only
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_migration_gives_each_resource_one_version_open_since_2000(kind, tmp_path):
    for url in _old_database(kind, tmp_path):
        engine = make_engine(url)
        upgrade(engine, "0019")
        with Session(engine) as session:
            world = build_world(session)
            plan = RatePlan(name="Club", basis=RateBasis.run_time, price_per_hour=9_000)
            session.add(plan)
            session.flush()
            laser = session.get(Resource, world.id("laser"))
            laser.rate_plan_id = plan.id
            session.add(laser)
            session.commit()
            plan_id, laser_id = plan.id, world.id("laser")
            expected = sorted(
                (r.id, r.rate_plan_id, r.rate_per_hour) for r in session.exec(select(Resource))
            )
        upgrade(engine, "0020")
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT resource_id, rate_plan_id, rate_per_hour, valid_from, valid_to "
                    "FROM resource_pricing ORDER BY resource_id"
                )
            ).all()
        engine.dispose()
        assert [(r[0], r[1], r[2]) for r in rows] == expected
        assert {(str(r[3]), r[4]) for r in rows} == {("2000-01-01", None)}
        assert (laser_id, plan_id, 22_000) in expected


def _form(resource: Resource, **changes: str) -> dict[str, str]:
    fields = ("name", "name_en", "category", "slot_minutes", "min_minutes", "max_minutes")
    more = ("buffer_minutes", "lead_minutes", "max_days_ahead", "capacity", "rate_per_hour")
    form = {name: str(getattr(resource, name)) for name in (*fields, *more)}
    form["active"] = "on"
    form["rate_plan_id"] = str(resource.rate_plan_id or "")
    form.update(changes)
    return form


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_page_moves_a_resource_to_a_plan_from_a_day_and_lists_its_history(
    client, world, session, terms
):
    from tests.pages import csrf_token, login

    plan = RatePlan(name="Evening", basis=RateBasis.run_time, price_per_hour=18_000)
    session.add(plan)
    make_run(session, world, "laser", "2026-10-20 10:00", 600, who="maker")
    session.commit()
    issue(session, terms, period=OCT, now=AFTER_OCT)
    login(client, email="admin@example.com")
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    path = f"/admin/resources/{world.id('laser')}"
    laser = session.get(Resource, world.id("laser"))

    def post(day: str):
        token = csrf_token(client, path)
        form = _form(laser, rate_plan_id=str(plan.id), price_from=day)
        return client.post(path, data={**form, "csrf_token": token})

    billed = post("2026-10-25")
    assert billed.status_code == 422
    assert "already invoiced" in billed.get_data(as_text=True)
    assert post("2026-11-01").status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert "Price history" in page and "2026-11-01" in page and "Evening" in page
    session.expire_all()
    # 1 h from 1 November at the plan's 18,000 won/h; October stays at 22,000 won/h.
    make_run(session, world, "laser", "2026-11-03 10:00", 3600, who="maker")
    make_run(session, world, "laser", "2026-10-31 10:00", 3600, who="maker")
    session.commit()
    assert _month(session, world, terms, NOV) == [18_000]
    assert _month(session, world, terms, OCT) == [3_667, 22_000]


def test_runs_are_grouped_by_the_charging_unit_of_the_plan_in_force_when_they_ran(
    session, world, terms
):
    # October: a plan charging each run; from November one charging each reservation.
    # Both 20,000 won/h with a 15-minute minimum.
    per_run = plan_for(
        session,
        world,
        "laser",
        basis=RateBasis.run_time,
        price_per_hour=20_000,
        min_minutes=15,
        charge_unit=ChargeUnit.run,
    )
    per_booking = RatePlan(
        name="per booking",
        basis=RateBasis.run_time,
        price_per_hour=20_000,
        min_minutes=15,
        charge_unit=ChargeUnit.reservation,
    )
    session.add(per_booking)
    session.commit()
    for month in ("2026-10-20", "2026-11-20"):
        booked = make_reservation(
            session, world, "maker", "laser", f"{month} 10:00", f"{month} 11:00"
        )
        for minute in ("10:05", "10:30"):
            make_run(
                session, world, "laser", f"{month} {minute}", 300, who="maker", reservation=booked
            )
    session.commit()
    _change(session, world, "laser", rate_plan_id=per_booking.id, price_from=date(2026, 11, 1))
    # October, per run: two 5-minute runs, each billed its 15-minute minimum = 5,000 + 5,000.
    assert _month(session, world, terms, OCT) == [5_000, 5_000]
    # November, per reservation: 10 minutes together, one 15-minute minimum = 5,000.
    assert _month(session, world, terms, NOV) == [5_000]
    assert per_run.id != per_booking.id
