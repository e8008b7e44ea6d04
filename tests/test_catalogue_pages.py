"""The catalogue pages, what is free when, and the home page's bookings."""

from __future__ import annotations

import re

import pytest

from service.models import Resource
from tests.factories import book
from tests.pages import csrf_token, login

# Pages render what the rules decide; the rules' own tests cover both databases.
pytestmark = pytest.mark.sqlite_only

DAY = "2026-03-03"


@pytest.fixture
def named(session, world):
    """The laser cutter with its Korean and English names and a rate."""
    laser = session.get(Resource, world.id("laser"))
    laser.name, laser.name_en, laser.rate_per_hour = "레이저 커터", "Laser cutter", 25_000
    session.add(laser)
    session.commit()
    return laser


def _names(page: str) -> list[str]:
    return re.findall(r'<a href="/resources/\d+">([^<]+)</a>', page)


def test_the_catalogue_lists_resources_with_names_rate_and_rules(client, world, named):
    login(client)
    page = client.get("/resources").get_data(as_text=True)
    assert "레이저 커터" in page
    assert "Laser cutter" in page  # the other language's name, beside
    assert "시간당 25,000원" in page
    assert "교육" in page


def test_the_catalogue_filters_by_center_and_kind(client, world):
    login(client)
    mullae = client.get("/resources?site=mullae").get_data(as_text=True)
    assert _names(mullae) == ["lathe-1"]
    rooms = client.get("/resources?kind=room").get_data(as_text=True)
    assert _names(rooms) == ["meeting-1"]
    both = client.get("/resources?site=seongsu&kind=machine").get_data(as_text=True)
    assert _names(both) == ["laser-1", "cnc-1", "printer-1", "embroidery-1"]


def test_htmx_gets_only_the_results_block(client, world):
    login(client)
    answer = client.get("/resources?kind=room", headers={"HX-Request": "true"})
    body = answer.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="results"')
    assert "<html" not in body
    assert _names(body) == ["meeting-1"]


def test_a_resource_page_shows_its_details_in_english_when_chosen(client, world, named):
    login(client)
    client.post(
        "/language", data={"locale": "en", "next": "/", "csrf_token": csrf_token(client, "/")}
    )
    page = client.get(f"/resources/{named.id}").get_data(as_text=True)
    assert "<h1>Laser cutter</h1>" in page
    assert "₩25,000 per hour" in page
    assert "Training required" in page


def test_an_unknown_resource_is_404(client, world):
    login(client)
    assert client.get("/resources/999999").status_code == 404


def test_free_lists_what_is_free_for_the_whole_span(client, world):
    login(client)
    booked = book(client, world, "maker", "printer", f"{DAY} 10:00", f"{DAY} 11:00")
    assert booked.status_code == 201
    page = client.get(f"/free?day={DAY}&from=10:00&to=12:00&kind=machine&site=seongsu").get_data(
        as_text=True
    )
    assert _names(page) == ["laser-1", "cnc-1", "embroidery-1"]
    later = client.get(f"/free?day={DAY}&from=11:00&to=12:00&kind=machine&site=seongsu")
    assert "printer-1" in _names(later.get_data(as_text=True))


def test_free_outside_opening_hours_lists_nothing(client, world):
    login(client)
    page = client.get(f"/free?day={DAY}&from=22:00&to=23:00&kind=machine").get_data(as_text=True)
    assert _names(page) == []


def test_free_with_the_end_before_the_start_says_why(client, world):
    login(client)
    page = client.get(f"/free?day={DAY}&from=12:00&to=10:00").get_data(as_text=True)
    assert "종료 시각은 시작 시각보다 늦어야 합니다." in page


def test_home_names_resources_and_keeps_cancelled_bookings_apart(client, world, named):
    first = book(client, world, "maker", "laser", f"{DAY} 10:00", f"{DAY} 11:00")
    second = book(client, world, "maker", "cnc", f"{DAY} 12:00", f"{DAY} 13:00")
    client.delete(f"/api/v1/reservations/{second.json['id']}", headers=world.headers("maker"))
    assert first.status_code == 201
    login(client)
    page = client.get("/").get_data(as_text=True)
    upcoming, cancelled = page.split('id="cancelled"')
    assert "레이저 커터" in upcoming and "cnc-1" not in upcoming
    assert "cnc-1" in cancelled and "취소됨" in cancelled
    assert "예약 확정" in upcoming
    assert "2026-03-03 10:00 KST" in upcoming
