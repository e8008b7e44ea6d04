"""The regional view: every center side by side, and the utilisation report in figures."""

from __future__ import annotations

import pytest

from service.models import Alert, AlertKind, Device
from tests.conftest import CURRENT_TIME
from tests.factories import make_reservation, make_run
from tests.pages import csrf_token, login

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

PATH = "/admin/regional?from=2026-02-16&to=2026-02-17&every=day"


@pytest.fixture
def busy(session, world) -> None:
    """The Seongsu laser running now, the Mullae lathe offline with an open alert."""
    laser = world.resources["laser"]
    session.add(
        Device(
            site_id=laser.site_id,
            resource_id=laser.id,
            slug="laser-dev",
            online=True,
            state="running",
        )
    )
    session.add(
        Alert(
            site_id=world.sites["mullae"].id,
            resource_id=world.id("lathe"),
            kind=AlertKind.offline,
            subject="mullae/lathe-1",
            opened_at=CURRENT_TIME,
        )
    )
    session.flush()
    make_reservation(session, world, "maker", "laser", "2026-03-02 10:00", "2026-03-02 12:00")
    make_reservation(session, world, "maker", "printer", "2026-02-16 10:00", "2026-02-16 13:00")
    make_run(session, world, "printer", "2026-02-16 10:00", 5400, energy_wh=1200.0)
    session.commit()


def test_admin_sees_both_centers_now(client, world, busy):
    login(client, email="admin@example.com")
    page = client.get(PATH).get_data(as_text=True)
    assert "성수 광역센터" in page and "문래 기계금속" in page
    seongsu = page[page.index("성수 광역센터") : page.index("문래 기계금속")]
    # Seongsu: the laser runs, three other machines have no device yet (offline); one
    # booking today (Monday 2 March, the app's clock).
    assert '<span class="state state-running">1</span>' in seongsu
    assert '<span class="state state-offline">3</span>' in seongsu
    assert "<dt>오늘 예약</dt><dd>1</dd>" in seongsu
    mullae = page[page.index("문래 기계금속") :]
    assert "<dt>미해결 알림</dt><dd>1</dd>" in mullae


def test_report_figures_are_written_out(client, world, busy):
    login(client, email="admin@example.com")
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, PATH)})
    page = client.get(PATH).get_data(as_text=True)
    # Seongsu over two days: 5 resources x 12 h x 2 = 120 h open, the printer booked 3 h
    # (2.5 %), ran 1.5 h (50 % of booked), 1.2 kWh.
    assert "120.0 h" in page and "3.0 h" in page
    assert "2.5 %" in page and "50.0 %" in page
    assert "1.2 kWh" in page
    assert "Download CSV" in page


def test_csv_link_gives_the_same_period(client, world, busy):
    login(client, email="admin@example.com")
    answer = client.get("/admin/regional.csv?group=kind&from=2026-02-16&to=2026-02-17&every=day")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    lines = answer.get_data(as_text=True).splitlines()
    assert lines[0].startswith("group,key,name,start,end,open_hours")
    assert len(lines) == 1 + 2 * 2  # machine and room, two days


def test_htmx_gets_only_the_report(client, world, busy):
    login(client, email="admin@example.com")
    page = client.get(PATH, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert page.lstrip().startswith('<div id="report"')


def test_a_bad_date_is_a_page_not_a_crash(client, world):
    login(client, email="admin@example.com")
    answer = client.get("/admin/regional?from=yesterday")
    assert answer.status_code == 422
    too_long = client.get("/admin/regional?from=2026-01-01&to=2026-12-31&every=day")
    assert too_long.status_code == 422
