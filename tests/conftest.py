"""Fixtures: every DB test runs on SQLite and on PostgreSQL, each on a fresh database."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel

from service.app import create_app
from service.config import Settings, load_settings
from service.db import make_engine
from service.migrate import upgrade
from service.models import ReservationStatus, Resource
from service.rules.pricing import BillingTerms
from tests import pg
from tests.factories import World, build_world, make_reservation

# Real Mosquitto and InfluxDB (`mosquitto`, `influxd`, `influxdb`); listeners on them.
pytest_plugins = ["tests.services", "tests.ingest"]

# The frozen "now" of the tests: Monday 2 March 2026, 09:00 in Seoul.
CURRENT_TIME = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """One migrated PostgreSQL database for the session; tests empty it first."""
    with pg.server() as admin, pg.database(admin, f"smartfab_test_{os.getpid()}") as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "smartfab.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _empty(engine: Engine) -> None:
    # DELETE beats TRUNCATE by far on tables this small (no new files, no fsync).
    with engine.begin() as conn:
        # Issued invoices, their payments and the number counter refuse DELETE (triggers);
        # TRUNCATE fires no row triggers.
        if conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM invoice) OR EXISTS (SELECT 1 FROM invoice_counter)")
        ).scalar():
            conn.execute(text("TRUNCATE invoice_payment, invoice_line, invoice, invoice_counter"))
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Before pytest reads the marks: a parametrize mark overrides the fixture's params.
    if metafunc.definition.get_closest_marker("sqlite_only") and "db_url" in metafunc.fixturenames:
        metafunc.definition.add_marker(pytest.mark.parametrize("db_url", ["sqlite"], indirect=True))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database: a copy of the SQLite template, or PostgreSQL emptied."""
    if request.param == "sqlite":
        path = tmp_path / "smartfab.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_url")
    engine = make_engine(url)
    _empty(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def settings(db_url: str) -> Settings:
    return load_settings(
        path=ROOT / "config.toml", environ={}, overrides={"database": {"url": db_url}}
    )


@pytest.fixture
def world(session: Session) -> World:
    """Two sites, machines and rooms, a maker, a second maker, operators and an admin."""
    return build_world(session)


@pytest.fixture
def app(settings: Settings, engine: Engine, world: World) -> Flask:
    app = create_app(settings, engine)
    app.config.update(TESTING=True, CLOCK=lambda: CURRENT_TIME)
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# -- billing ----------------------------------------------------------------------------


@pytest.fixture
def terms(settings) -> BillingTerms:
    return BillingTerms.from_settings(settings)


@pytest.fixture
def priced(session, world) -> None:
    """Laser 22,000 won/h by run time (its own rate); the meeting room 10,000 won/h booked."""
    room = session.get(Resource, world.id("room"))
    room.rate_per_hour = 10_000
    session.add(room)
    session.commit()


@pytest.fixture
def held(session, world):
    """held("maker", "room", "2026-02-03", "10:00-12:00", status): a reservation, Seoul times."""

    def make(who: str, resource: str, day: str, hours: str, status=ReservationStatus.completed):
        start, end = hours.split("-")
        return make_reservation(
            session, world, who, resource, f"{day} {start}", f"{day} {end}", status
        )

    return make


@pytest.fixture
def registered_devices(session: Session, world: World) -> None:
    """A device row for every machine and room of every site, as the listener would make."""
    from service.rules.devices import ensure_devices

    for site in world.sites.values():
        ensure_devices(session=session, site=site)
    session.commit()
