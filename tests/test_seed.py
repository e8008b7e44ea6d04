"""The demo data set: what `smartfab seed --demo` loads, and that it is safe to load twice."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from service.app import create_app
from service.cli import cli
from service.config import Settings
from service.db import make_engine
from service.demo_data import DEMO_PASSWORD, seed_demo
from service.migrate import upgrade
from service.models import (
    Account,
    AccountMembership,
    Blackout,
    Company,
    MembershipPlan,
    OpeningHours,
    RateBasis,
    RatePlan,
    RatePlanPrice,
    Resource,
    ResourceKind,
    Role,
    RoleName,
    Site,
    Training,
)
from service.rules.availability import free_intervals
from tests.conftest import CURRENT_TIME

SEEDED = (
    Site,
    OpeningHours,
    Blackout,
    Resource,
    Company,
    Account,
    Role,
    Training,
    RatePlan,
    MembershipPlan,
    RatePlanPrice,
    AccountMembership,
)


def _counts(session: Session) -> dict[str, int]:
    return {
        model.__name__: session.exec(select(func.count()).select_from(model)).one()
        for model in SEEDED
    }


def _resource(session: Session, site_slug: str, slug: str) -> tuple[Resource, Site]:
    site = session.exec(select(Site).where(Site.slug == site_slug)).one()
    resource = session.exec(
        select(Resource).where(Resource.site_id == site.id, Resource.slug == slug)
    ).one()
    return resource, site


def test_demo_has_the_regional_center_and_specialised_centers(session):
    seed_demo(session=session)
    sites = {s.slug: s for s in session.exec(select(Site))}
    assert {"seongsu", "mullae", "euljiro"} <= set(sites)
    assert len(sites) >= 3
    assert "성수" in sites["seongsu"].address
    assert all(s.timezone == "Asia/Seoul" and s.name and s.name_en for s in sites.values())
    assert sites["seongsu"].machine_quota_hours == 20


def test_demo_has_twenty_machines_named_in_korean_and_english(session):
    seed_demo(session=session)
    machines = session.exec(select(Resource).where(Resource.kind == ResourceKind.machine)).all()
    assert len(machines) >= 20
    for machine in machines:
        assert machine.name and machine.name_en and machine.category, machine.slug
        assert machine.rate_per_hour > 0, machine.slug
        assert machine.min_minutes % machine.slot_minutes == 0, machine.slug
        assert machine.max_minutes % machine.slot_minutes == 0, machine.slug
    categories = {m.category for m in machines}
    assert {"laser_cutter", "cnc_router", "3d_printer_fdm", "3d_printer_resin"} <= categories
    assert {"shoe_lasting", "lathe", "offset_press", "embroidery", "sewing_machine"} <= categories
    laser, _ = _resource(session, "seongsu", "laser-1")
    assert laser.requires_training and laser.buffer_minutes > 0
    assert 20_000 <= laser.rate_per_hour <= 30_000
    assert any(m.requires_approval for m in machines)
    assert any(m.walk_in_allowed and not m.requires_training for m in machines)


def test_demo_rooms_include_incubation_offices_and_the_showroom(session):
    seed_demo(session=session)
    rooms = session.exec(select(Resource).where(Resource.kind == ResourceKind.room)).all()
    showroom, _ = _resource(session, "seongsu", "showroom")
    assert showroom.kind == ResourceKind.room and showroom.requires_approval
    assert "VR" in showroom.name
    offices = [r for r in rooms if r.category == "incubation_office"]
    assert len(offices) >= 3
    assert all(2 <= r.capacity <= 6 and r.max_minutes >= 480 for r in offices)
    assert any(r.category == "meeting_room" for r in rooms)


def test_every_bookable_length_fits_in_a_day_of_its_site(session):
    seed_demo(session=session)
    for resource in session.exec(select(Resource)):
        longest = max(
            datetime.combine(CURRENT_TIME.date(), h.closes)
            - datetime.combine(CURRENT_TIME.date(), h.opens)
            for h in session.exec(
                select(OpeningHours).where(OpeningHours.site_id == resource.site_id)
            )
        )
        assert timedelta(minutes=resource.max_minutes) <= longest, resource.slug


def test_seongsu_opens_weekdays_nine_to_nine_and_saturday_afternoon(session):
    seed_demo(session=session)
    seongsu = session.exec(select(Site).where(Site.slug == "seongsu")).one()
    hours = session.exec(select(OpeningHours).where(OpeningHours.site_id == seongsu.id)).all()
    by_day = {h.weekday: (h.opens, h.closes) for h in hours}
    assert len(hours) == 6
    assert all(by_day[d] == (time(9), time(21)) for d in range(5))
    assert by_day[5] == (time(10), time(17))
    assert 6 not in by_day


def test_substitute_holiday_closes_the_site_and_maintenance_one_machine(session):
    seed_demo(session=session)
    laser, seongsu = _resource(session, "seongsu", "laser-1")
    printer, _ = _resource(session, "seongsu", "fdm-1")
    zone = seongsu.zone

    def free(resource: Resource, day: int) -> timedelta:
        start = datetime(2026, 3, day, tzinfo=zone)
        found = free_intervals(
            session=session,
            resource=resource,
            site=seongsu,
            start=start,
            end=start + timedelta(days=1),
            now=CURRENT_TIME,
        )
        return sum((iv.end - iv.start for iv in found), timedelta())

    assert free(laser, 2) == timedelta(0)  # 삼일절 대체공휴일
    assert free(laser, 3) == timedelta(hours=12)
    assert free(laser, 11) == timedelta(hours=8)  # morning servicing
    assert free(printer, 11) == timedelta(hours=12)
    reasons = {b.reason for b in session.exec(select(Blackout))}
    assert {"어린이날", "추석 연휴"} <= reasons


def test_demo_people_hold_their_roles(session):
    seed_demo(session=session)
    roles = {
        (account.email, role.role, role.site_id)
        for account, role in session.exec(
            select(Account, Role).join(Role, col(Role.account_id) == Account.id)
        )
    }
    seongsu = session.exec(select(Site).where(Site.slug == "seongsu")).one()
    assert ("maker@smartfab.example", RoleName.maker, None) in roles
    assert ("operator@smartfab.example", RoleName.operator, seongsu.id) in roles
    assert ("admin@smartfab.example", RoleName.admin, None) in roles
    operated = {site_id for _, role, site_id in roles if role == RoleName.operator}
    assert operated == {s.id for s in session.exec(select(Site))}
    maker = session.exec(select(Account).where(Account.email == "maker@smartfab.example")).one()
    assert maker.company_id is not None and maker.card_uid == "04A1B2C3"


def test_demo_trainings_name_real_categories_and_one_has_lapsed(session):
    seed_demo(session=session)
    trained = session.exec(select(Training)).all()
    needed = {
        r.category for r in session.exec(select(Resource).where(col(Resource.requires_training)))
    }
    assert {t.category for t in trained} <= needed
    assert any(t.expires_on is not None and t.expires_on < CURRENT_TIME.date() for t in trained)
    assert any(t.expires_on is None or t.expires_on > CURRENT_TIME.date() for t in trained)


def test_demo_prices_lasers_by_run_time_offices_by_month_and_tenants_at_a_discount(session):
    seed_demo(session=session)
    plans = {p.id: p for p in session.exec(select(RatePlan))}

    def plan(slug: str) -> RatePlan:
        resource, _ = _resource(session, "seongsu", slug)
        assert resource.rate_plan_id is not None, slug
        return plans[resource.rate_plan_id]

    assert plan("laser-1").basis == RateBasis.run_time and plan("laser-1").price_per_hour > 0
    assert plan("incubator-301").basis == RateBasis.monthly
    assert plan("incubator-301").monthly_price > 0
    assert plan("showroom").basis == RateBasis.booked_time
    tenant = session.exec(
        select(MembershipPlan).where(col(MembershipPlan.name).contains("입주기업"))
    ).one()
    assert tenant.discount_percent == 30
    maker = session.exec(select(Account).where(Account.email == "maker@smartfab.example")).one()
    (held,) = session.exec(
        select(AccountMembership).where(AccountMembership.account_id == maker.id)
    ).all()
    assert held.membership_plan_id == tenant.id
    laser = plan("laser-1")
    (version,) = session.exec(
        select(RatePlanPrice).where(RatePlanPrice.rate_plan_id == laser.id)
    ).all()
    assert (version.price_per_hour, version.valid_to) == (27_000, None)
    assert version.price_per_hour > laser.price_per_hour


def test_seeding_twice_adds_nothing(session):
    first = seed_demo(session=session)
    counts = _counts(session)
    second = seed_demo(session=session)
    assert first.startswith("seeded ") and "machines" in first
    assert second == "demo data already present: nothing added"
    assert _counts(session) == counts


def _token_answer(settings: Settings, engine: Engine, email: str, password: str):
    app = create_app(settings, engine)
    app.config.update(TESTING=True, CLOCK=lambda: CURRENT_TIME)
    client = app.test_client()
    return client, client.post("/api/v1/auth/token", json={"email": email, "password": password})


def test_demo_maker_logs_in_and_books_a_laser_slot(session, settings, engine):
    seed_demo(session=session)
    laser, _ = _resource(session, "seongsu", "laser-1")
    client, answer = _token_answer(settings, engine, "maker@smartfab.example", DEMO_PASSWORD)
    assert answer.status_code == 201, answer.json
    booked = client.post(
        "/api/v1/reservations",
        headers={"Authorization": f"Bearer {answer.json['token']}"},
        json={
            "resource_id": laser.id,
            "start": "2026-03-03T10:00:00+09:00",
            "end": "2026-03-03T11:00:00+09:00",
        },
    )
    assert booked.status_code == 201, booked.json


def test_demo_logins_refuse_a_wrong_password(session, settings, engine):
    seed_demo(session=session)
    for email in ("operator@smartfab.example", "admin@smartfab.example"):
        _, right = _token_answer(settings, engine, email, DEMO_PASSWORD)
        assert right.status_code == 201, (email, right.json)
    _, wrong = _token_answer(settings, engine, "maker@smartfab.example", "not-the-demo-password")
    assert wrong.status_code == 401


def test_seed_demo_command_fills_a_migrated_sqlite_file_once(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'smartfab.db'}"
    engine = make_engine(url)
    upgrade(engine)
    runner = CliRunner()
    env = {"SMARTFAB_DATABASE__URL": url}

    first = runner.invoke(cli, ["seed", "--demo"], env=env)
    second = runner.invoke(cli, ["seed", "--demo"], env=env)

    assert first.exit_code == 0, first.output
    assert first.output.startswith("seeded 5 sites")
    assert second.exit_code == 0, second.output
    assert "nothing added" in second.output
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Resource)).one() >= 20
        assert session.exec(select(Account).where(Account.email == "maker@smartfab.example")).one()
    engine.dispose()


def test_demo_lets_the_incubation_offices_to_resident_firms_that_pay_for_their_people(session):
    from service.models import Company, RentalContract

    seed_demo(session=session)
    office, _ = _resource(session, "seongsu", "incubator-301")
    (let,) = session.exec(
        select(RentalContract).where(RentalContract.resource_id == office.id)
    ).all()
    firm = session.get(Company, let.company_id)
    assert firm is not None and firm.name == "한결수제화" and firm.representative
    assert firm.email == "tax@hangyeol-shoes.example"
    assert let.monthly_fee == 300_000 and let.account_id is None
    maker = session.exec(select(Account).where(Account.email == "maker@smartfab.example")).one()
    assert maker.company_id == firm.id and maker.bills_to_company
    # One office stays free for anyone to book.
    free, _ = _resource(session, "seongsu", "incubator-401")
    assert (
        session.exec(select(RentalContract).where(RentalContract.resource_id == free.id)).all()
        == []
    )
