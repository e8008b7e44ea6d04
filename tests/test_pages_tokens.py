"""The settings page lists a person's sessions and tokens; revoking one ends it at once."""

from __future__ import annotations

import re

import pytest

from tests.pages import csrf_token, login

pytestmark = pytest.mark.sqlite_only

SETTINGS = "/me/settings"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"
_ROW = re.compile(r'<tr id="token-(\d+)">(.*?)</tr>', re.S)


def _rows(client) -> dict[int, str]:
    page = client.get(SETTINGS).get_data(as_text=True)
    return {int(i): body for i, body in _ROW.findall(page)}


def _revoke(client, token_id: int):
    token = csrf_token(client, SETTINGS)
    return client.post(f"/me/settings/tokens/{token_id}/revoke", data={"csrf_token": token})


def _english(client) -> None:
    client.post(
        "/language",
        data={"locale": "en", "next": "/login", "csrf_token": csrf_token(client)},
    )


def test_settings_list_this_browser_other_sessions_and_api_tokens(app, client, world):
    phone = app.test_client()
    phone.environ_base["HTTP_USER_AGENT"] = PHONE
    login(phone)
    _english(client)
    login(client)
    rows = _rows(client)
    # This browser, the phone's session and the world's API token.
    assert len(rows) == 3
    texts = list(rows.values())
    assert sum("This browser" in text for text in texts) == 1
    assert any("Browser session" in t and "Safari · iOS" in t for t in texts)
    assert any("API token" in text for text in texts)
    page = client.get(SETTINGS).get_data(as_text=True)
    assert "Signed-in sessions and API tokens" in page
    assert world.tokens["maker"] not in page


def test_the_settings_page_speaks_korean_by_default(client, world):
    login(client)
    page = client.get(SETTINGS).get_data(as_text=True)
    assert "로그인된 세션과 API 토큰" in page
    assert "Signed-in sessions and API tokens" not in page


def test_revoking_another_browsers_session_signs_that_browser_out(app, client, world):
    phone = app.test_client()
    phone.environ_base["HTTP_USER_AGENT"] = PHONE
    login(phone)
    stolen = phone.get_cookie("session").value
    assert phone.get(SETTINGS).status_code == 200
    login(client)
    phone_id = next(i for i, text in _rows(client).items() if "iOS" in text)
    answer = _revoke(client, phone_id)
    assert answer.status_code == 302
    assert answer.headers["Location"] == SETTINGS
    assert phone_id not in _rows(client)
    # The phone is signed out, and a copy of its cookie opens nothing either.
    assert phone.get(SETTINGS).status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get(SETTINGS).status_code == 302
    # The browser that revoked it is still in.
    assert client.get(SETTINGS).status_code == 200


def test_revoking_this_browsers_own_session_signs_it_out(app, client, world):
    login(client)
    cookie = client.get_cookie("session").value
    mine = next(i for i, text in _rows(client).items() if "badge-current" in text)
    answer = _revoke(client, mine)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login"
    assert "로그인" in client.get("/login").get_data(as_text=True)
    assert client.get(SETTINGS).status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/").status_code == 302


def test_revoking_an_api_token_from_the_page_closes_the_api_to_it(client, world):
    login(client)
    api = next(i for i, text in _rows(client).items() if "badge-current" not in text)
    _revoke(client, api)
    answer = client.get("/api/v1/reservations", headers=world.headers("maker"))
    assert answer.status_code == 401


def test_revoking_someone_elses_token_from_the_page_is_refused(app, client, world):
    other = app.test_client()
    login(other, email="other@example.com")
    theirs = next(iter(_rows(other)))
    login(client)
    assert _revoke(client, theirs).status_code == 404
    assert other.get(SETTINGS).status_code == 200


def test_revoking_without_a_csrf_token_is_refused(client, world):
    login(client)
    mine = next(iter(_rows(client)))
    answer = client.post(f"/me/settings/tokens/{mine}/revoke")
    assert answer.status_code == 400
    assert client.get(SETTINGS).status_code == 200
