"""The booking timeline, its confirmation step, and the rules behind both."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html import unescape

import pytest

from service.models import RatePlan, Resource
from service.rules.availability import free_intervals_many
from service.rules.catalogue import resources_with_sites
from service.rules.timeline import State, day_timeline, end_choices, week_timeline
from tests.conftest import CURRENT_TIME
from tests.factories import book, make_blackout, seoul
from tests.pages import csrf_token, login

# Pages render what the rules decide; the rules' own tests cover both databases.
pytestmark = pytest.mark.sqlite_only

DAY = "2026-03-03"  # a Tuesday; the tests' clock reads Monday 2026-03-02 09:00 in Seoul
TIMELINE = f"/book?site=seongsu&kind=machine&day={DAY}"
_CELL = re.compile(r'aria-label="([^"]+)"|<span class="sr-only">([^<]+)</span>')
_FREE = re.compile(r'href="(/book/confirm\?[^"]+)" aria-label="([^"]+)"')


def _names(page: str) -> set[str]:
    """Every cell's accessible name."""
    return {unescape(a or b) for a, b in _CELL.findall(page)}


def _confirm_links(page: str) -> dict[str, str]:
    return {unescape(name): unescape(href) for href, name in _FREE.findall(page)}


def _english(client) -> None:
    client.post(
        "/language", data={"locale": "en", "next": "/", "csrf_token": csrf_token(client, "/")}
    )


# anonymous -> login; every role that may book sees the timeline and the confirm page.
@pytest.mark.parametrize(
    "who", [None, "maker@example.com", "operator@example.com", "admin@example.com"]
)
def test_the_timeline_follows_the_role_matrix(client, world, who):
    if who is not None:
        login(client, email=who)
    confirm = f"/book/confirm?resource={world.id('cnc')}&start={DAY}T10:00"
    for path in (TIMELINE, confirm):
        answer = client.get(path)
        if who is None:
            assert answer.status_code == 302
            assert answer.headers["Location"].startswith("/login")
        else:
            assert answer.status_code == 200, path


def test_a_day_shows_resources_as_rows_and_the_opening_hours_as_columns(client, world):
    login(client)
    page = client.get(TIMELINE).get_data(as_text=True)
    rows = re.findall(r'<tr id="r(\d+)">', page)
    assert [int(r) for r in rows] == [
        world.id(n) for n in ("laser", "cnc", "printer", "embroidery")
    ]
    headers = re.findall(r'<th scope="col" colspan="\d+">([\d:]+)</th>', page)
    assert headers[0] == "09:00" and headers[-1] == "20:00" and len(headers) == 12
    assert "laser-1, 09:00–09:30, 예약 가능" in _names(page)


def test_reserved_blacked_out_and_free_cells_are_named_apart(client, world, session):
    login(client)
    assert book(client, world, "maker", "laser", f"{DAY} 10:00", f"{DAY} 11:00").status_code == 201
    site = world.sites["seongsu"]
    make_blackout(
        session, site, seoul(f"{DAY} 13:00"), seoul(f"{DAY} 15:00"), world.resources["cnc"]
    )
    names = _names(client.get(TIMELINE).get_data(as_text=True))
    assert "laser-1, 10:00–10:30, 예약됨" in names
    assert "laser-1, 10:30–11:00, 예약됨" in names
    assert "laser-1, 11:00–11:30, 예약 가능" in names
    assert "cnc-1, 13:30–14:00, 점검·휴일로 닫힘" in names
    # The printer books whole hours: its cells are an hour long.
    assert "printer-1, 09:00–10:00, 예약 가능" in names


def test_the_pause_after_a_booking_is_not_bookable_and_not_reserved(client, world):
    login(client)
    assert book(client, world, "maker", "cnc", f"{DAY} 10:00", f"{DAY} 11:00").status_code == 201
    names = _names(client.get(TIMELINE).get_data(as_text=True))
    # cnc-1 keeps 15 minutes free after each booking: 11:00-11:30 cannot start a booking.
    assert "cnc-1, 10:30–11:00, 예약됨" in names
    assert "cnc-1, 11:00–11:30, 예약 불가" in names
    assert "cnc-1, 09:30–10:00, 예약 불가" in names
    assert "cnc-1, 11:30–12:00, 예약 가능" in names


def test_a_closed_sunday_says_so(client, world):
    login(client)
    page = client.get("/book?site=seongsu&day=2026-03-08").get_data(as_text=True)
    assert "이날은 센터가 운영하지 않습니다." in page
    assert "<table" not in page


def test_free_cells_are_exactly_what_the_api_calls_free(client, world, session):
    login(client)
    assert book(client, world, "other", "cnc", f"{DAY} 12:00", f"{DAY} 14:00").status_code == 201
    assert (
        book(client, world, "maker", "printer", f"{DAY} 15:00", f"{DAY} 17:00").status_code == 201
    )
    site = world.sites["seongsu"]
    make_blackout(session, site, seoul(f"{DAY} 18:00"), seoul(f"{DAY} 19:00"))
    page = client.get(TIMELINE).get_data(as_text=True)
    api = client.get(
        "/api/v1/availability",
        headers=world.headers("maker"),
        query_string={
            "site": "seongsu",
            "kind": "machine",
            "from": seoul(f"{DAY} 00:00").isoformat(),
            "to": seoul("2026-03-04 00:00").isoformat(),
        },
    ).json
    slugs = {world.id(n): world.resources[n].slug for n in world.resources}
    free_cells = {n for n in _names(page) if n.endswith("예약 가능")}
    from_api = set()
    for answer in api:
        step = timedelta(minutes=answer["slot_minutes"])
        for iv in answer["free"]:
            moment = datetime.fromisoformat(iv["start"])
            end = datetime.fromisoformat(iv["end"])
            while moment < end:
                start_text = moment.astimezone(site.zone).strftime("%H:%M")
                end_text = (moment + step).astimezone(site.zone).strftime("%H:%M")
                from_api.add(f"{slugs[answer['resource_id']]}, {start_text}–{end_text}, 예약 가능")
                moment += step
    assert free_cells == from_api


def test_a_free_cell_links_to_the_confirm_page_with_its_times(client, world):
    login(client)
    links = _confirm_links(client.get(TIMELINE).get_data(as_text=True))
    href = links["laser-1, 10:00–10:30, 예약 가능"]
    assert href == f"/book/confirm?resource={world.id('laser')}&start={DAY}T10:00&end={DAY}T10:30"


def test_the_week_shows_seven_days_in_parts_with_free_time(client, world):
    assert book(client, world, "maker", "laser", f"{DAY} 09:00", f"{DAY} 12:00").status_code == 201
    login(client)
    page = client.get(f"{TIMELINE}&view=week").get_data(as_text=True)
    days = re.findall(r'<th scope="col" colspan="3">([^<]+)</th>', page)
    assert len(days) == 7 and days[0] == "3/2 (월)"
    names = _names(page)
    assert "laser-1, 3/3 (화) 오전, 예약됨" in names
    assert "laser-1, 3/3 (화) 오후, 5시간 예약 가능: 시간 고르기" in names
    assert "laser-1, 3/8 (일) 오후, 운영 안 함" in names
    # A free part of the week leads to its day, where times are chosen.
    assert (
        f'href="/book?site=seongsu&amp;kind=machine&amp;day=2026-03-04#r{world.id("laser")}"'
        in page
    )


def test_htmx_gets_only_the_timeline(client, world):
    login(client)
    body = client.get(TIMELINE, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert body.lstrip().startswith('<div id="timeline">')
    assert "<html" not in body


def test_the_confirm_page_shows_the_price_and_the_rules(client, world, session):
    laser = session.get(Resource, world.id("laser"))
    laser.rate_per_hour = 25_000
    session.add(laser)
    session.commit()
    login(client)
    page = client.get(
        f"/book/confirm?resource={laser.id}&start={DAY}T10:00&end={DAY}T11:00"
    ).get_data(as_text=True)
    assert "최대 25,000원" in page  # billed by run time: at most the whole hour
    assert "예약은 30분 단위로 시작하고 끝납니다." in page
    assert "30분부터 4시간까지." in page
    assert "필요: 이 장비의 유효한 교육 이수." in page
    assert "필요 없음: 바로 확정됩니다." in page
    ends = re.findall(r'<option value="([^"]+)"', page)
    assert ends[0] == f"{DAY}T10:30" and ends[-1] == f"{DAY}T14:00"
    assert f'<option value="{DAY}T11:00" selected>' in page


def test_a_booked_time_room_costs_its_booked_minutes(client, world, session):
    plan = RatePlan(name="hourly room", basis="booked_time", price_per_hour=10_000)
    session.add(plan)
    session.flush()
    room = session.get(Resource, world.id("room"))
    room.rate_plan_id = plan.id
    session.add(room)
    session.commit()
    login(client)
    _english(client)
    page = client.get(
        f"/book/confirm?resource={room.id}&start={DAY}T10:00&end={DAY}T12:00"
    ).get_data(as_text=True)
    assert "₩20,000 for 2 h at ₩10,000 per hour." in page
    assert "If you do not come, 50% of the booked time is charged (₩10,000)." in page


def test_the_end_choices_stop_at_the_next_booking(client, world):
    assert book(client, world, "maker", "laser", f"{DAY} 12:00", f"{DAY} 13:00").status_code == 201
    login(client)
    page = client.get(f"/book/confirm?resource={world.id('laser')}&start={DAY}T10:00")
    ends = re.findall(r'<option value="([^"]+)"', page.get_data(as_text=True))
    assert ends == [f"{DAY}T10:30", f"{DAY}T11:00", f"{DAY}T11:30", f"{DAY}T12:00"]


def _confirm(client, world, resource: str, start: str, end: str):
    return client.post(
        "/book/confirm",
        data={
            "resource": world.id(resource),
            "start": f"{DAY}T{start}",
            "end": f"{DAY}T{end}",
            "csrf_token": csrf_token(client, TIMELINE),
        },
    )


def test_confirming_books_and_comes_back_to_the_timeline_with_a_message(client, world):
    login(client)
    answer = _confirm(client, world, "laser", "10:00", "11:30")
    assert answer.status_code == 302
    assert answer.headers["Location"] == (
        f"/book?site=seongsu&kind=machine&day={DAY}#r{world.id('laser')}"
    )
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "laser-1 예약을 마쳤습니다: 2026-03-03 10:00–11:30." in page
    assert "laser-1, 11:00–11:30, 예약됨" in _names(page)
    mine = client.get("/api/v1/reservations?mine=1", headers=world.headers("maker")).json
    assert [(r["start"], r["status"]) for r in mine] == [("2026-03-03T01:00:00Z", "confirmed")]


def test_a_resource_needing_approval_is_requested(client, world):
    login(client, email="other@example.com")
    before = client.get(f"/book/confirm?resource={world.id('embroidery')}&start={DAY}T10:00")
    assert "필요: 운영자가 확정할 때까지 승인 대기 상태입니다." in before.get_data(as_text=True)
    answer = _confirm(client, world, "embroidery", "10:00", "11:00")
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "embroidery-1 예약을 신청했습니다: 2026-03-03 10:00–11:00." in page
    mine = client.get("/api/v1/reservations?mine=1", headers=world.headers("other")).json
    assert [r["status"] for r in mine] == ["pending"]


def test_a_refused_booking_says_which_rule_in_korean(client, world):
    login(client, email="other@example.com")  # not trained on the laser cutter
    answer = _confirm(client, world, "laser", "10:00", "11:00")
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "예약하지 못했습니다: 이 장비를 쓰려면 유효한 교육 이수가 필요합니다." in page
    # The choice is kept: the same span is offered again.
    assert f'<input type="hidden" name="end" value="{DAY}T11:00">' in page


def test_a_refused_booking_says_which_rule_in_english(client, world):
    login(client, email="other@example.com")
    _english(client)
    page = client.get(f"/book/confirm?resource={world.id('laser')}&start={DAY}T10:00")
    # Before confirming, the page already says what the rules would answer.
    assert "You need a valid training for this machine." in page.get_data(as_text=True)
    answer = _confirm(client, world, "laser", "10:00", "11:00")
    assert answer.status_code == 422
    assert "The booking was refused: You need a valid training for this machine." in (
        answer.get_data(as_text=True)
    )


def test_a_time_taken_meanwhile_is_a_409_with_the_sentence(client, world):
    login(client)
    assert book(client, world, "other", "cnc", f"{DAY} 10:00", f"{DAY} 11:00").status_code == 201
    answer = _confirm(client, world, "cnc", "10:00", "11:00")
    assert answer.status_code == 409
    assert "이미 다른 사람이 예약한 시간입니다." in answer.get_data(as_text=True)


def test_confirming_without_the_csrf_token_is_refused(client, world):
    login(client)
    answer = client.post(
        "/book/confirm",
        data={"resource": world.id("laser"), "start": f"{DAY}T10:00", "end": f"{DAY}T11:00"},
    )
    assert answer.status_code == 400
    assert client.get("/api/v1/reservations?mine=1", headers=world.headers("maker")).json == []


@pytest.mark.parametrize(
    ("path", "status", "sentence"),
    [
        ("/book?day=tomorrow", 400, "날짜는 2026-03-03 같은 형식이어야 합니다."),
        ("/book?day=9999-12-31", 400, "날짜는 2026-03-03 같은 형식이어야 합니다."),
        ("/book?kind=spaceship", 400, "화면에 있는 선택지 중에서 골라 주세요."),
        ("/book?view=month", 400, "화면에 있는 선택지 중에서 골라 주세요."),
        ("/book?site=atlantis", 404, "없거나 본인의 것이 아닙니다."),
        ("/book/confirm?resource=abc&start=2026-03-03T10:00", 404, "없거나 본인의 것이 아닙니다."),
        ("/book/confirm?resource=99999999999999&start=2026-03-03T10:00", 404, "없거나"),
        ("/book/confirm?resource=1&start=noon", 400, "시간은 2026-03-03T10:00 같은 형식이어야"),
        ("/book/confirm?resource=1&start=2026-03-03T10:00&end=later", 400, "시간은"),
        ("/book/confirm?resource=1&start=9999-03-03T10:00", 400, "시간은"),
    ],
)
def test_bad_input_is_a_clear_page_not_a_500(client, world, path, status, sentence):
    login(client)
    answer = client.get(path.replace("resource=1&", f"resource={world.id('laser')}&"))
    assert answer.status_code == status
    assert answer.mimetype == "text/html"
    assert sentence in answer.get_data(as_text=True)


# The rules behind the page.


def _seongsu(session, world):
    return resources_with_sites(session=session, site="seongsu", kind=None)


def test_day_cells_are_free_where_free_intervals_many_says(session, world, client):
    assert book(client, world, "maker", "laser", f"{DAY} 11:00", f"{DAY} 12:30").status_code == 201
    pairs = _seongsu(session, world)
    site = world.sites["seongsu"]
    found = day_timeline(
        session=session, site=site, resources=pairs, day=date(2026, 3, 3), now=CURRENT_TIME
    )
    free = free_intervals_many(
        session=session, resources=pairs, start=found.start, end=found.end, now=CURRENT_TIME
    )
    for row in found.rows:
        shown = [(c.start, c.end) for c in row.cells if c.state == State.free]
        step = timedelta(minutes=row.resource.slot_minutes)
        expected = []
        for iv in free[row.resource.id]:
            moment = iv.start
            while moment < iv.end:
                expected.append((moment, moment + step))
                moment += step
        assert shown == expected, row.resource.slug


def test_a_week_is_monday_to_sunday_whatever_the_day(session, world):
    pairs = _seongsu(session, world)
    site = world.sites["seongsu"]
    found = week_timeline(
        session=session, site=site, resources=pairs, day=date(2026, 3, 5), now=CURRENT_TIME
    )
    assert found.days[0] == date(2026, 3, 2) and found.days[-1] == date(2026, 3, 8)
    assert len(found.columns) == 21
    assert all(len(row.cells) == 21 for row in found.rows)


def test_end_choices_when_the_start_is_not_free_offer_every_length(session, world, client):
    assert book(client, world, "maker", "laser", f"{DAY} 10:00", f"{DAY} 11:00").status_code == 201
    laser = world.resources["laser"]
    choice = end_choices(
        session=session,
        resource=laser,
        site=world.sites["seongsu"],
        start=seoul(f"{DAY} 10:00"),
        now=CURRENT_TIME,
    )
    assert not choice.free
    assert len(choice.ends) == 8  # 30 minutes to 4 hours, in 30-minute steps


def test_the_resource_page_and_the_home_page_lead_to_the_timeline(client, world):
    login(client)
    detail = client.get(f"/resources/{world.id('cnc')}").get_data(as_text=True)
    assert f'href="/book?site=seongsu&amp;kind=machine#r{world.id("cnc")}"' in detail
    home = client.get("/").get_data(as_text=True)
    assert '<form method="get" action="/book"' in home
    assert 'value="2026-03-02"' in home  # today in Seoul by the tests' clock


def test_an_estimate_counts_as_billing_counts():
    from service.models import RateBasis
    from service.rules.pricing import Rate, estimate

    hourly = Rate(RateBasis.booked_time, 10_000, 0, 50, 0)
    assert estimate(rate=hourly, minutes=90, discount_percent=10).amount == 13_500
    assert estimate(rate=hourly, minutes=90, discount_percent=10).no_show_amount == 7_500
    run = Rate(RateBasis.run_time, 6_000, 0, 50, 15)
    assert estimate(rate=run, minutes=10).amount == 1_500  # at least the plan's 15 minutes
    monthly = Rate(RateBasis.monthly, 0, 300_000, 0, 0)
    found = estimate(rate=monthly, minutes=600)
    assert (found.amount, found.monthly_price, found.no_show_amount) == (0, 300_000, 0)
