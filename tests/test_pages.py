"""Password login for the web pages."""

from __future__ import annotations

import pytest

from tests.pages import csrf_token, login

# Pages render what the rules decide; the rules' own tests cover both databases.
pytestmark = pytest.mark.sqlite_only


def test_pages_need_a_login(client, world):
    answer = client.get("/")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login")


def test_login_with_the_right_password_shows_the_makers_reservations(client, world):
    client.post(
        "/api/v1/reservations",
        headers=world.headers("maker"),
        json={
            "resource_id": world.id("printer"),
            "start": "2026-03-03T10:00:00+09:00",
            "end": "2026-03-03T11:00:00+09:00",
        },
    )
    answer = login(client)
    assert answer.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert "maker" in home.get_data(as_text=True)
    assert "2026-03-03 10:00 KST" in home.get_data(as_text=True)


def test_wrong_password_shows_the_form_again_with_an_error(client, world):
    answer = login(client, password="not it")
    assert answer.status_code == 401
    # The site is in Seoul: the page speaks Korean until someone chooses English.
    assert "이메일 또는 비밀번호가 올바르지 않습니다." in answer.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_never_redirects_to_another_host(client, world):
    answer = login(client, next_="//evil.example/steal")
    assert answer.headers["Location"] == "/"


def test_logout_ends_the_session(client, world):
    login(client)
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert client.get("/").status_code == 302


def test_logout_revokes_the_login_so_a_copy_of_the_old_cookie_opens_nothing(
    app, client, world, session
):
    from sqlmodel import select

    from service.models import ApiToken

    login(client)
    cookie = client.get_cookie("session")
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie("session", cookie.value)
    assert copy.get("/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert copy.get("/").status_code == 302
    session.expire_all()
    tokens = session.exec(select(ApiToken).where(ApiToken.account_id == world.id("maker")))
    # The page's login is revoked; the API token the account holds besides is not.
    assert sorted(t.revoked for t in tokens) == [False, True]


def test_metrics_count_requests(client, world):
    client.get("/api/v1/sites", headers=world.headers("maker"))
    body = client.get("/metrics").get_data(as_text=True)
    assert 'smartfab_http_requests_total{endpoint="catalogue.list_sites"' in body


def test_a_deactivated_account_is_logged_out_of_the_pages(client, world, session):
    from service.models import Account

    login(client)
    account = session.get(Account, world.id("maker"))
    account.active = False
    session.add(account)
    session.commit()
    answer = client.get("/")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login")
