"""A person's own pages: usage, invoices, trainings and settings with the calendar link."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import session as cookie
from sqlmodel import select

from service.models import Account, AuditLog, Resource
from service.pages.i18n import money
from service.rules.credit_notes import credit_invoice, reissue_invoice
from service.rules.invoicing import invoice_lines
from tests.billing import issue
from tests.conftest import CURRENT_TIME
from tests.factories import make_run, make_training
from tests.pages import csrf_token, login
from tests.test_roles import PEOPLE

# Pages render what the rules decide; the rules' own tests cover both databases.
pytestmark = pytest.mark.sqlite_only

PAGES = ["/me/usage", "/me/usage?month=2026-02", "/me/invoices", "/me/trainings", "/me/settings"]
FEB = "2026-02"


@pytest.fixture
def usage(session, world) -> None:
    """February: the maker ran the laser 10 minutes (1.5 kWh); the other maker the lathe 90."""
    lathe = session.get(Resource, world.id("lathe"))
    lathe.rate_per_hour = 20_000
    session.add(lathe)
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker", energy_wh=1500.0)
    make_run(session, world, "lathe", "2026-02-11 14:00", 5400, who="other", energy_wh=800.0)
    session.commit()


@pytest.fixture
def invoices(session, terms, world, usage) -> dict[str, int]:
    done = issue(session, terms)
    return {
        who: next(i.id for i in done.created if i.account_id == world.id(who))
        for who in ("maker", "other")
    }


def _text(answer) -> str:
    return answer.get_data(as_text=True)


def _feed_path(page: str) -> str:
    found = re.search(r'id="ical-url" type="text" value="http://[^/]+(/ical/[^"]+\.ics)"', page)
    assert found, "no calendar link on the settings page"
    return found.group(1)


# -- who may open the pages ----------------------------------------------------------------


@pytest.mark.parametrize("path", [*PAGES, "/me/invoices/1"])
def test_my_pages_send_anonymous_visitors_to_the_login(client, world, path):
    answer = client.get(path)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("actor", PEOPLE)
def test_every_role_has_its_own_pages(client, world, actor):
    login(client, email=PEOPLE[actor])
    for path in PAGES:
        assert client.get(path).status_code == 200, path


# actor -> may they read the maker's February invoice? As the API decides: the maker,
# the Seongsu operator (a line at their site) and the admin.
READS_MAKERS_INVOICE = {"maker": True, "other": False, "operator": True, "admin": True}
EMAILS = {**PEOPLE, "other": "other@example.com"}


@pytest.mark.parametrize("actor", READS_MAKERS_INVOICE)
def test_reading_an_invoice_page_follows_the_role_matrix(client, world, invoices, actor):
    login(client, email=EMAILS[actor])
    answer = client.get(f"/me/invoices/{invoices['maker']}")
    assert answer.status_code == (200 if READS_MAKERS_INVOICE[actor] else 404)


# -- usage -----------------------------------------------------------------------------------


def test_usage_shows_the_month_asked_for_in_the_sites_time(client, world, usage):
    login(client)
    page = _text(client.get("/me/usage?month=2026-02"))
    assert "laser-1" in page and "2026-02-10 10:00 KST" in page
    assert "10분" in page and "1.50 kWh" in page
    # Only the maker's own runs.
    assert "lathe-1" not in page


def test_usage_of_another_month_is_empty(client, world, usage):
    login(client)
    page = _text(client.get("/me/usage?month=2026-01"))
    assert "laser-1" not in page
    assert "이 달에 기록된 기계 사용이 없습니다." in page


def test_usage_defaults_to_this_month_at_the_site(client, world, usage):
    login(client)
    # CURRENT_TIME is 2026-03-02 09:00 in Seoul: March, with no runs yet.
    page = _text(client.get("/me/usage"))
    assert 'value="2026-03"' in page and "laser-1" not in page


def test_htmx_gets_only_the_usage_results(client, world, usage):
    login(client)
    answer = client.get("/me/usage?month=2026-02", headers={"HX-Request": "true"})
    fragment = _text(answer)
    assert fragment.lstrip().startswith('<div id="results"') and "<html" not in fragment
    assert "laser-1" in fragment


@pytest.mark.parametrize("month", ["2026-13", "March", "2026-3", "'; drop table"])
def test_a_bad_month_is_a_4xx_page_in_the_readers_language(client, world, month):
    login(client)
    answer = client.get("/me/usage", query_string={"month": month})
    assert 400 <= answer.status_code < 500
    assert "기간은 2026-03 형식으로 적어 주세요." in _text(answer)


# -- invoices --------------------------------------------------------------------------------


def test_a_maker_lists_only_their_own_invoices(client, world, invoices):
    login(client)
    page = _text(client.get("/me/invoices"))
    assert f"/me/invoices/{invoices['maker']}" in page
    assert f"/me/invoices/{invoices['other']}" not in page


def test_an_invoice_shows_its_lines_and_totals(client, world, invoices):
    login(client)
    page = _text(client.get(f"/me/invoices/{invoices['maker']}"))
    # 10 minutes of the laser at 22,000 won an hour: 3,667 won, VAT included.
    assert f"{FEB}-000001" in page
    assert "22,000원" in page and "3,667원" in page
    assert "3,334원" in page and "333원" in page  # net and VAT
    assert "10분" in page


def test_another_makers_invoice_is_a_404_page(client, world, invoices):
    login(client)
    answer = client.get(f"/me/invoices/{invoices['other']}")
    assert answer.status_code == 404
    assert "없거나 본인의 것이 아닙니다." in _text(answer)


@pytest.mark.parametrize("bad", ["0", "999999", "abc", "1.5", "²", "99999999999999999999", "-1"])
def test_an_unknown_invoice_id_is_a_404_page(client, world, bad):
    login(client)
    answer = client.get(f"/me/invoices/{bad}")
    assert answer.status_code == 404
    assert "<html" in _text(answer)


def test_a_credit_note_is_shown_as_such_and_linked_both_ways(
    client, world, invoices, session, terms
):
    note = credit_invoice(
        session=session,
        now=CURRENT_TIME,
        terms=terms,
        invoice_id=invoices["maker"],
        actor_id=world.id("admin"),
        reason="wrong rate",
    )
    session.commit()
    login(client)
    listing = _text(client.get("/me/invoices"))
    assert "취소 계산서" in listing and f"/me/invoices/{note.id}" in listing
    credit = _text(client.get(f"/me/invoices/{note.id}"))
    assert "취소 계산서" in credit and f'href="/me/invoices/{invoices["maker"]}"' in credit
    assert "-3,667원" in credit
    original = _text(client.get(f"/me/invoices/{invoices['maker']}"))
    assert f'href="/me/invoices/{note.id}"' in original and "취소됨" in original


def test_a_partial_credit_and_the_replacement_are_named_on_the_pages(
    client, world, usage, session, terms
):
    make_run(session, world, "laser", "2026-02-12 10:00", 1_800, who="maker")
    session.commit()
    (mine,) = [i for i in issue(session, terms).created if i.account_id == world.id("maker")]
    thirty = invoice_lines(session=session, invoice_id=mine.id)[1]
    note = credit_invoice(
        session=session,
        now=CURRENT_TIME,
        terms=terms,
        invoice_id=mine.id,
        actor_id=world.id("admin"),
        reason="wrong laser rate",
        line_ids=[thirty.id],
    )
    again = reissue_invoice(
        session=session,
        now=CURRENT_TIME,
        terms=terms,
        invoice_id=mine.id,
        actor_id=world.id("admin"),
    )
    session.commit()
    login(client)
    original = _text(client.get(f"/me/invoices/{mine.id}"))
    assert "일부 취소됨" in original and f'href="/me/invoices/{note.id}"' in original
    assert (
        "이 달을 다시 청구한 계산서" in original and f'href="/me/invoices/{again.id}"' in original
    )
    credit = _text(client.get(f"/me/invoices/{note.id}"))
    assert "일부 항목을 취소하는 계산서" in credit
    replacement = _text(client.get(f"/me/invoices/{again.id}"))
    assert "대신하는 취소된 계산서" in replacement
    assert f'href="/me/invoices/{mine.id}"' in replacement
    listing = _text(client.get("/me/invoices"))
    assert "일부 취소" in listing


def test_an_admin_sees_whose_invoice_it_is(client, world, invoices):
    login(client, email=PEOPLE["admin"])
    page = _text(client.get("/me/invoices"))
    assert "other" in page and f"/me/invoices/{invoices['other']}" in page


# -- trainings -------------------------------------------------------------------------------


def test_trainings_mark_the_expired_ones_by_the_sites_date(client, world, session):
    maker = session.get(Account, world.id("maker"))
    # CURRENT_TIME is 2026-03-02 00:00 UTC, already 09:00 on 2 March in Seoul.
    make_training(session, maker, "cnc_router", date(2026, 3, 1))
    make_training(session, maker, "lathe", date(2026, 3, 2))
    session.commit()
    login(client, email=PEOPLE["maker"])
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    page = _text(client.get("/me/trainings"))
    rows = {
        category: row
        for row in re.findall(r"<tr.*?</tr>", page, flags=re.S)
        for category in ("laser_cutter", "cnc_router", "lathe")
        if f"<code>{category}</code>" in row
    }
    assert "Expired" in rows["cnc_router"] and 'class="expired"' in rows["cnc_router"]
    assert "Valid" in rows["lathe"] and "Valid" in rows["laser_cutter"]
    # The machines of each training, by name.
    assert "laser-1" in rows["laser_cutter"] and "cnc-1" in rows["cnc_router"]


# -- settings: the calendar link -------------------------------------------------------------


def test_settings_show_the_calendar_link_that_works(client, world):
    login(client)
    page = _text(client.get("/me/settings"))
    assert '<label for="ical-url">' in page and "readonly" in page
    assert client.get(_feed_path(page)).status_code == 200


def test_resetting_the_link_retires_the_old_one_and_is_audited(client, world, session):
    login(client)
    old = _feed_path(_text(client.get("/me/settings")))
    answer = client.post(
        "/me/settings/calendar-link", data={"csrf_token": csrf_token(client, "/me/settings")}
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/me/settings"
    page = _text(client.get("/me/settings"))
    new = _feed_path(page)
    assert new != old
    assert "예전 링크는 더 이상 작동하지 않습니다." in page
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    entries = session.exec(select(AuditLog).where(AuditLog.action == "account.ical_reset")).all()
    assert [(e.actor_id, e.subject) for e in entries] == [
        (world.id("maker"), f"account:{world.id('maker')}")
    ]
    assert new.removeprefix("/ical/").removesuffix(".ics") not in str(entries[0].detail)


def test_resetting_the_link_without_the_csrf_token_is_refused(client, world):
    login(client)
    old = _feed_path(_text(client.get("/me/settings")))
    answer = client.post("/me/settings/calendar-link", data={})
    assert answer.status_code == 400
    assert "양식" in _text(answer)
    assert _feed_path(_text(client.get("/me/settings"))) == old
    assert client.get(old).status_code == 200


def test_resetting_is_only_for_someone_logged_in(client, world):
    answer = client.post(
        "/me/settings/calendar-link", data={"csrf_token": csrf_token(client, "/login")}
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login?next=/me/settings"


def test_the_language_choice_on_settings_comes_back_to_settings(client, world, session):
    login(client)
    answer = client.post(
        "/language",
        data={
            "locale": "en",
            "next": "/me/settings",
            "csrf_token": csrf_token(client, "/me/settings"),
        },
    )
    assert answer.headers["Location"] == "/me/settings"
    page = _text(client.get("/me/settings"))
    assert "Calendar subscription" in page
    session.expire_all()
    assert session.get(Account, world.id("maker")).locale == "en"


def test_a_credit_in_english_puts_the_sign_before_the_won_sign(app):
    with app.test_request_context("/"):
        cookie["locale"] = "en"
        assert money(-3667) == "-₩3,667"
        assert money(25000) == "₩25,000"
