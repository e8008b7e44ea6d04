"""Small factories for the tests' world of sites, resources and people."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlmodel import Session, select
from werkzeug.test import TestResponse

from service.models import (
    Account,
    Blackout,
    Device,
    OpeningHours,
    Reservation,
    ReservationStatus,
    Resource,
    ResourceKind,
    Role,
    RoleName,
    Site,
    Training,
    UsageSession,
)
from service.rules.accounts import Principal, hash_password, issue_token, principal_for

PASSWORD = "correct horse battery"
TOKEN_TIME = datetime(2026, 1, 1, tzinfo=UTC)
# Hashing is slow on purpose; the tests hash the one password once.
PASSWORD_HASH = hash_password(PASSWORD)


def make_site(
    session: Session,
    slug: str,
    *,
    hours: tuple[time, time] = (time(9), time(21)),
    days: range = range(6),
    **kw: Any,
) -> Site:
    site = Site(slug=slug, name=kw.pop("name", slug), **kw)
    session.add(site)
    session.flush()
    for weekday in days:
        session.add(
            OpeningHours(site_id=site.id or 0, weekday=weekday, opens=hours[0], closes=hours[1])
        )
    return site


def make_resource(session: Session, site: Site, slug: str, **kw: Any) -> Resource:
    values: dict[str, Any] = {
        "kind": ResourceKind.machine,
        "name": slug,
        "slot_minutes": 30,
        "min_minutes": 30,
        "max_minutes": 240,
        "max_days_ahead": 60,
    }
    values.update(kw)
    resource = Resource(site_id=site.id or 0, slug=slug, **values)
    session.add(resource)
    session.flush()
    return resource


def make_account(
    session: Session,
    email: str,
    role: RoleName = RoleName.maker,
    site: Site | None = None,
    **kw: Any,
) -> Account:
    account = Account(
        email=email,
        name=kw.pop("name", email.split("@")[0]),
        password_hash=PASSWORD_HASH,
        **kw,
    )
    session.add(account)
    session.flush()
    session.add(
        Role(account_id=account.id or 0, role=role, site_id=site.id if site is not None else None)
    )
    return account


def make_training(
    session: Session, account: Account, category: str, expires_on: date | None = None
) -> Training:
    training = Training(account_id=account.id or 0, category=category, expires_on=expires_on)
    session.add(training)
    return training


@dataclass
class World:
    """What most tests need, by name; `headers(name)` authenticates as that person."""

    sites: dict[str, Site] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def id(self, name: str) -> int:
        thing = self.resources.get(name) or self.accounts[name]
        assert thing.id is not None
        return thing.id


def build_world(session: Session) -> World:
    world = World()
    seongsu = make_site(
        session, "seongsu", name="성수 광역센터", timezone="Asia/Seoul", machine_quota_hours=10
    )
    mullae = make_site(session, "mullae", name="문래 기계금속", timezone="Asia/Seoul")
    world.sites = {"seongsu": seongsu, "mullae": mullae}
    world.resources = {
        "laser": make_resource(
            session,
            seongsu,
            "laser-1",
            category="laser_cutter",
            requires_training=True,
            rate_per_hour=22000,
        ),
        "cnc": make_resource(session, seongsu, "cnc-1", category="cnc_router", buffer_minutes=15),
        "printer": make_resource(
            session,
            seongsu,
            "printer-1",
            category="3d_printer",
            slot_minutes=60,
            min_minutes=60,
            max_minutes=480,
        ),
        "embroidery": make_resource(
            session, seongsu, "embroidery-1", category="embroidery", requires_approval=True
        ),
        "room": make_resource(
            session,
            seongsu,
            "meeting-1",
            kind=ResourceKind.room,
            slot_minutes=60,
            min_minutes=60,
            max_minutes=600,
        ),
        "lathe": make_resource(session, mullae, "lathe-1", category="lathe"),
    }
    people = {
        "maker": ("maker@example.com", RoleName.maker, None),
        "other": ("other@example.com", RoleName.maker, None),
        "operator": ("operator@example.com", RoleName.operator, seongsu),
        "mullae_operator": ("mullae@example.com", RoleName.operator, mullae),
        "admin": ("admin@example.com", RoleName.admin, None),
    }
    for name, (email, role, site) in people.items():
        account = Account(email=email, name=name, password_hash=PASSWORD_HASH)
        session.add(account)
        session.flush()
        session.add(
            Role(
                account_id=account.id or 0, role=role, site_id=site.id if site is not None else None
            )
        )
        world.accounts[name] = account
        world.tokens[name] = issue_token(
            session=session, now=TOKEN_TIME, account=account, ttl_days=3650
        )
    make_training(session, world.accounts["maker"], "laser_cutter", date(2027, 1, 1))
    session.commit()
    return world


SEOUL = ZoneInfo("Asia/Seoul")


def seoul(text: str) -> datetime:
    """A wall-clock time at the Seoul sites, e.g. seoul("2026-03-03 10:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=SEOUL)


def make_blackout(
    session: Session,
    site: Site,
    start: datetime,
    end: datetime,
    resource: Resource | None = None,
    reason: str = "",
) -> Blackout:
    """Close the whole site (no resource) or one resource; committed for the app to see."""
    blackout = Blackout(
        site_id=site.id or 0,
        resource_id=resource.id if resource is not None else None,
        start_at=start,
        end_at=end,
        reason=reason,
    )
    session.add(blackout)
    session.commit()
    return blackout


def book(
    client: FlaskClient, world: World, who: str, resource: str, start: str, end: str, **extra: Any
) -> TestResponse:
    """POST a reservation of `resource` for `who`, times given as Seoul wall-clock text."""
    return client.post(
        "/api/v1/reservations",
        headers=world.headers(who),
        json={
            "resource_id": world.id(resource),
            "start": seoul(start).isoformat(),
            "end": seoul(end).isoformat(),
            **extra,
        },
    )


def refused(answer: TestResponse, status: int, code: str) -> dict[str, Any]:
    """Assert the answer is the error `code` with HTTP `status`; return the error body."""
    assert answer.status_code == status, answer.json
    assert answer.json is not None
    error: dict[str, Any] = answer.json["error"]
    assert error["code"] == code, error
    return error


def make_reservation(
    session: Session,
    world: World,
    who: str,
    resource: str,
    start: str,
    end: str,
    status: ReservationStatus = ReservationStatus.completed,
    **kw: Any,
) -> Reservation:
    """A reservation written straight to the database (no booking rules), Seoul times."""
    start_at, end_at = seoul(start), seoul(end)
    reservation = Reservation(
        resource_id=world.id(resource),
        account_id=world.id(who),
        created_by_id=world.id(who),
        start_at=start_at,
        end_at=end_at,
        blocked_until=end_at,
        status=status,
        created_at=start_at,
        updated_at=start_at,
        **kw,
    )
    session.add(reservation)
    session.flush()
    return reservation


def make_run(
    session: Session,
    world: World,
    resource: str,
    start: str,
    run_seconds: int,
    who: str | None = None,
    reservation: Reservation | None = None,
    **kw: Any,
) -> UsageSession:
    """A finished usage session of `resource` starting at Seoul time `start`."""
    res = world.resources[resource]
    device = session.exec(select(Device).where(Device.resource_id == res.id)).first()
    if device is None:
        device = Device(site_id=res.site_id, resource_id=res.id, slug=f"{res.slug}-dev")
        session.add(device)
        session.flush()
    start_at = seoul(start)
    run = UsageSession(
        resource_id=res.id or 0,
        device_id=device.id or 0,
        reservation_id=reservation.id if reservation is not None else None,
        account_id=world.id(who) if who is not None else None,
        start_at=start_at,
        end_at=start_at + timedelta(seconds=run_seconds),
        run_seconds=run_seconds,
        last_sample_at=start_at + timedelta(seconds=run_seconds),
        **kw,
    )
    session.add(run)
    session.flush()
    return run


def principal_of(session: Session, world: World, who: str) -> Principal:
    """The principal of one of the world's people, as a request would see them."""
    return principal_for(session=session, account=world.accounts[who])
