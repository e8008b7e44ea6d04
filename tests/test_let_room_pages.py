"""The pages show a let room as rented, in words, to all but its tenant's people."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.pages import csrf_token, login
from tests.rental import company, contract, join

pytestmark = pytest.mark.sqlite_only

ROOMS = "/book?site=seongsu&kind=room&day=2026-03-03"  # a Tuesday; the clock reads Monday
_CELL = re.compile(r'aria-label="([^"]+)"|<span class="sr-only">([^<]+)</span>')


@pytest.fixture
def let(session, world):
    """The meeting room let to 성수가죽공방 on Tuesday and Wednesday; the maker works there."""
    firm = company(session)
    join(session, world, "maker", firm, bills=False)
    return contract(session, world, "2026-03-03", "2026-03-04", firm=firm)


def _names(page: str) -> set[str]:
    return {unescape(a or b) for a, b in _CELL.findall(page)}


def _english(client) -> None:
    client.post(
        "/language", data={"locale": "en", "next": "/", "csrf_token": csrf_token(client, "/")}
    )


def _room_links(page: str, world) -> list[str]:
    return re.findall(rf'href="(/book/confirm\?resource={world.id("room")}&[^"]+)"', page)


def test_others_see_the_let_day_rented_with_no_link_to_book(client, world, let):
    login(client, email="other@example.com")
    page = client.get(ROOMS).get_data(as_text=True)
    names = _names(page)
    assert "meeting-1, 09:00–10:00, 임대 중" in names
    assert "meeting-1, 20:00–21:00, 임대 중" in names
    assert not _room_links(page, world)
    # The legend says what the mark means, so the colour is never alone.
    assert '<span class="cell rented" aria-hidden="true">⌂</span> 임대 중' in page


def test_others_read_rented_in_english(client, world, let):
    login(client, email="other@example.com")
    _english(client)
    names = _names(client.get(ROOMS).get_data(as_text=True))
    assert "meeting-1, 10:00–11:00, rented" in names


def test_the_tenants_people_see_the_let_day_free_and_may_confirm_it(client, world, let):
    login(client)
    page = client.get(ROOMS).get_data(as_text=True)
    assert "meeting-1, 09:00–10:00, 예약 가능" in _names(page)
    links = _room_links(page, world)
    assert len(links) == 12
    confirm = client.get(unescape(links[1])).get_data(as_text=True)
    # The confirm page offers the tenant the day's ends and no refusal.
    assert "임대" not in confirm


def test_the_week_writes_rented_in_the_let_cells(client, world, let):
    login(client, email="other@example.com")
    page = client.get(ROOMS + "&view=week").get_data(as_text=True)
    row = page[page.index(f'<tr id="r{world.id("room")}">') :]
    row = row[: row.index("</tr>")]
    # Tuesday and Wednesday, morning, afternoon and evening: six cells say so in words.
    assert row.count('<span class="note">임대 중</span>') == 6
    assert "meeting-1, 3/3 (화) 오전, 임대 중" in _names(row)


def test_the_resource_page_shows_its_week_rented_to_others_and_free_to_the_tenant(
    client, world, let
):
    path = f"/resources/{world.id('room')}"
    login(client, email="other@example.com")
    page = client.get(path).get_data(as_text=True)
    assert page.count('<td class="cell rented">') == 6
    assert '<h2 id="timeline-title">이번 주,' in page
    client.get("/logout")
    login(client)
    page = client.get(path).get_data(as_text=True)
    assert '<td class="cell rented">' not in page
    assert 'href="/book?site=seongsu&amp;kind=room&amp;day=2026-03-03#r' in page


def test_a_machines_page_shows_its_week_with_free_time(client, world):
    login(client)
    page = client.get(f"/resources/{world.id('cnc')}").get_data(as_text=True)
    assert '<td class="cell free">' in page and '<td class="cell rented">' not in page
