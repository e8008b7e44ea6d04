"""Safe forms: CSRF on every page POST, same-site redirects, cookies, and the language switch."""

from __future__ import annotations

import pytest

from tests.pages import csrf_token, login

# Pages render what the rules decide; the rules' own tests cover both databases.
pytestmark = pytest.mark.sqlite_only


def test_a_page_post_without_a_csrf_token_is_400(client, world):
    answer = client.post("/login", data={"email": "maker@example.com", "password": "x"})
    assert answer.status_code == 400
    assert client.get("/").status_code == 302


def test_logout_without_a_csrf_token_is_refused(client, world):
    login(client)
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_the_api_needs_no_csrf_token(client, world):
    from tests.factories import PASSWORD

    answer = client.post(
        "/api/v1/auth/token", json={"email": "maker@example.com", "password": PASSWORD}
    )
    assert answer.status_code == 201


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/steal",
        "/%09/evil.example",
        "/\t/evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "evil.example",
    ],
)
def test_login_never_redirects_off_the_site(client, world, target):
    answer = login(client, next_=target)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"


def test_login_returns_to_the_page_asked_for(client, world):
    answer = client.get("/resources?kind=room")
    assert answer.status_code == 302
    follow = login(client, next_="/resources%3Fkind%3Droom")
    assert follow.headers["Location"] == "/resources?kind=room"


def test_the_session_cookie_is_httponly_and_lax(client, world):
    answer = login(client)
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_the_session_cookie_is_secure_when_configured(settings, engine, world):
    from service.app import create_app

    web = settings.web.model_copy(update={"secure_cookies": True})
    app = create_app(settings.model_copy(update={"web": web}), engine)
    client = app.test_client()
    cookie = login(client).headers["Set-Cookie"]
    assert "Secure" in cookie


def test_a_copied_session_cookie_opens_nothing_after_logout(app, client, world):
    login(client)
    stolen = client.get_cookie("session").value
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/").status_code == 302


def _choose(client, locale, back="/login"):
    token = csrf_token(client, back)
    return client.post("/language", data={"locale": locale, "next": back, "csrf_token": token})


def test_pages_speak_korean_by_default_at_a_seoul_site(client, world):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="ko">' in page
    assert "로그인" in page


def test_choosing_english_before_login_holds_for_the_session(client, world):
    answer = _choose(client, "en")
    assert answer.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Log in" in page


def test_the_chosen_language_is_remembered_on_the_account(app, client, world):
    login(client)
    _choose(client, "en", back="/")
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    # A new browser, logged in as the same person, speaks English too.
    other = app.test_client()
    login(other)
    assert '<html lang="en">' in other.get("/").get_data(as_text=True)
    _choose(other, "ko", back="/")
    assert '<html lang="ko">' in other.get("/").get_data(as_text=True)


def test_the_language_switch_goes_back_only_to_this_site(client, world):
    token = csrf_token(client)
    answer = client.post(
        "/language", data={"locale": "en", "next": "//evil.example", "csrf_token": token}
    )
    assert answer.headers["Location"] == "/"


def test_an_unknown_language_is_400(client, world):
    token = csrf_token(client)
    answer = client.post("/language", data={"locale": "xx", "csrf_token": token})
    assert answer.status_code == 400


def test_a_page_refusal_is_a_page_in_the_readers_language(client, world):
    login(client)
    answer = client.get("/resources/999999")
    assert answer.status_code == 404
    assert answer.mimetype == "text/html"
    assert "없거나 본인의 것이 아닙니다." in answer.get_data(as_text=True)


def test_a_refused_form_says_why_in_the_readers_language(client, world):
    answer = client.post("/login", data={"email": "maker@example.com", "password": "x"})
    assert answer.status_code == 400
    assert "양식이 만료되었거나" in answer.get_data(as_text=True)
