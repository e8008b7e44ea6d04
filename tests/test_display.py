"""The display beside a machine: opened by its secret, first names and times only, a QR code."""

from __future__ import annotations

import re
from datetime import UTC

import pytest
from markupsafe import escape
from sqlalchemy import MetaData, insert, text
from sqlmodel import select

from service.db import make_engine
from service.migrate import upgrade
from service.models import Account, Device, ReservationStatus, Resource
from service.pages.display import qr_svg
from service.rules.display import first_name
from tests.factories import make_reservation, seoul

# These pages check rendering: SQLite only.
pytestmark = pytest.mark.sqlite_only


NOW = seoul("2026-03-03 10:20").astimezone(UTC)


@pytest.fixture
def laser(app, world, session) -> str:
    """The laser's display address, with Kim Minjun on it now and Park Jiwoo next."""
    app.config["CLOCK"] = lambda: NOW
    maker = session.get(Account, world.id("maker"))
    maker.name, maker.email = "김민준", "minjun.kim@example.com"
    other = session.get(Account, world.id("other"))
    other.name = "Jiwoo Park"
    make_reservation(
        session,
        world,
        "maker",
        "laser",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        status=ReservationStatus.active,
        note="secret project for client X",
    )
    make_reservation(
        session,
        world,
        "other",
        "laser",
        "2026-03-03 13:00",
        "2026-03-03 14:30",
        status=ReservationStatus.confirmed,
    )
    resource = session.get(Resource, world.id("laser"))
    session.add(
        Device(
            site_id=resource.site_id,
            resource_id=resource.id,
            slug="laser-1-dev",
            online=True,
            state="running",
        )
    )
    session.commit()
    return f"/display/{resource.display_secret}"


def test_a_wrong_or_empty_secret_is_404(client, world, laser):
    assert client.get("/display/not-the-secret").status_code == 404
    assert client.get(laser + "x").status_code == 404


def test_the_display_needs_no_login_and_speaks_the_sites_korean(client, laser):
    answer = client.get(laser)
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert '<html lang="ko">' in page
    assert "laser-1" in page


def test_it_shows_first_names_times_and_remaining_minutes(client, laser):
    page = client.get(laser + "?lang=en").get_data(as_text=True)
    assert "In use by 민준" in page
    assert "40 min left" in page and "11:00" in page
    assert "13:00–14:30 · Jiwoo" in page
    assert "running" in page


def test_no_other_personal_data_leaks(client, laser):
    page = client.get(laser).get_data(as_text=True)
    for secret in ("김민준", "minjun.kim", "@example.com", "Park", "secret project", "client X"):
        assert secret not in page


def test_a_qr_code_opens_the_booking_page_of_this_resource(client, world, laser):
    page = client.get(laser).get_data(as_text=True)
    assert "<svg" in page and "<path" in page
    url = "http://localhost/book?site=seongsu&kind=machine&day=2026-03-03"
    # Written out for people who cannot scan, and the very address the code holds.
    assert escape(url) in page
    drawings = re.findall(r' d="([^"]+)"', qr_svg(url))
    assert drawings and all(f' d="{d}"' in page for d in drawings)
    assert 'role="img"' in page or "<title>" in page


def test_the_refresh_is_only_the_board_and_polls_itself(client, laser):
    whole = client.get(laser).get_data(as_text=True)
    assert 'hx-trigger="every 10s"' in whole
    assert "display.js" in whole
    assert "<script>" not in whole  # no inline script
    part = client.get(laser, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in part and "민준" in part


def test_a_free_machine_says_so(client, world, session, app):
    app.config["CLOCK"] = lambda: NOW
    resource = session.get(Resource, world.id("cnc"))
    page = client.get(f"/display/{resource.display_secret}?lang=en").get_data(as_text=True)
    assert "Free" in page and "Nothing booked later" in page


@pytest.mark.parametrize(
    "name,first",
    [
        ("김민준", "민준"),
        ("김 민준", "민준"),
        ("남궁민수", "궁민수"),
        ("이은", "이은"),
        ("Jiwoo Park", "Jiwoo"),
        ("maker", "maker"),
        ("", ""),
    ],
)
def test_first_name(name, first):
    assert first_name(name) == first


def test_every_resource_has_its_own_display_secret(session, world):
    secrets = [r.display_secret for r in session.exec(select(Resource))]
    assert all(secrets) and len(set(secrets)) == len(secrets)


def test_the_migration_gives_each_existing_resource_its_own_secret(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0005")
    tables = MetaData()
    tables.reflect(engine, only=["site", "resource"])
    site, resource = tables.tables["site"], tables.tables["resource"]
    with engine.begin() as conn:
        site_id = conn.execute(
            insert(site).values(
                slug="s",
                name="s",
                name_en="",
                timezone="Asia/Seoul",
                address="",
                machine_quota_hours=0,
                room_quota_hours=0,
            )
        ).inserted_primary_key[0]
        for slug in ("a", "b"):
            conn.execute(
                insert(resource).values(_row(resource, site_id=site_id, slug=slug, kind="machine"))
            )
    upgrade(engine, "0009")
    with engine.connect() as conn:
        found = [row[0] for row in conn.execute(text("SELECT display_secret FROM resource"))]
    engine.dispose()
    assert len(found) == 2 and all(found) and found[0] != found[1]


def _row(table, **given):
    """Values for every NOT NULL column of an old `resource` row: zero, empty or false."""
    values = dict(given)
    for column in table.columns:
        if column.name in values or column.nullable or column.primary_key:
            continue
        python = column.type.python_type
        values[column.name] = {int: 1, bool: False, str: "x"}.get(python, "x")
    return values


def test_a_booking_not_checked_in_and_a_pending_request_are_told_apart(client, world, session, app):
    app.config["CLOCK"] = lambda: NOW
    make_reservation(
        session,
        world,
        "other",
        "printer",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        status=ReservationStatus.confirmed,
    )
    make_reservation(
        session,
        world,
        "maker",
        "printer",
        "2026-03-03 12:00",
        "2026-03-03 13:00",
        status=ReservationStatus.pending,
    )
    session.commit()
    secret = session.get(Resource, world.id("printer")).display_secret
    page = client.get(f"/display/{secret}?lang=en").get_data(as_text=True)
    assert "Booked by other, not checked in yet" in page
    assert "12:00" not in page  # a request that may yet be declined is not the next booking
    assert "Nothing booked later" in page
