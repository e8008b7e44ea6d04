"""Listing and revoking one's own page logins and API tokens, over the API."""

from __future__ import annotations

import pytest
from sqlmodel import select

from service.models import ApiToken, AuditLog
from service.rules.tokens import client_label
from tests.factories import PASSWORD

CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918N) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


def _new_token(client, email="maker@example.com", agent="curl/8.5.0") -> str:
    answer = client.post(
        "/api/v1/auth/token",
        json={"email": email, "password": PASSWORD},
        headers={"User-Agent": agent},
    )
    assert answer.status_code == 201, answer.json
    return str(answer.json["token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_listing_shows_the_callers_live_tokens_and_marks_the_one_in_use(client, world):
    token = _new_token(client, agent=CHROME_ANDROID)
    answer = client.get("/api/v1/auth/tokens", headers=_bearer(token))
    assert answer.status_code == 200
    listed = answer.json
    # The world's token and the new one; the newest first, and it is the one in use.
    assert len(listed) == 2
    assert listed[0]["current"] is True and listed[1]["current"] is False
    assert listed[0]["kind"] == "api"
    assert listed[0]["label"] == "Chrome · Android"
    assert set(listed[0]) == {"id", "kind", "label", "created_at", "expires_at", "current"}
    assert token not in answer.get_data(as_text=True)


def test_listing_never_shows_another_persons_tokens(client, world):
    _new_token(client, email="other@example.com")
    listed = client.get("/api/v1/auth/tokens", headers=world.headers("maker")).json
    assert len(listed) == 1


def test_only_the_hash_of_a_token_is_stored(client, session, world):
    token = _new_token(client)
    stored = session.exec(select(ApiToken.token_hash)).all()
    assert token not in stored
    assert all(len(h) == 64 for h in stored)


def test_a_revoked_token_opens_nothing_and_leaves_the_list(client, session, world):
    token = _new_token(client)
    mine = client.get("/api/v1/auth/tokens", headers=_bearer(token)).json
    token_id = next(t["id"] for t in mine if t["current"])
    answer = client.delete(f"/api/v1/auth/tokens/{token_id}", headers=world.headers("maker"))
    assert answer.status_code == 204
    assert client.get("/api/v1/reservations", headers=_bearer(token)).status_code == 401
    left = client.get("/api/v1/auth/tokens", headers=world.headers("maker")).json
    assert token_id not in [t["id"] for t in left]
    entry = session.exec(select(AuditLog).where(AuditLog.action == "token.revoked")).one()
    assert entry.actor_id == world.id("maker")
    assert entry.subject == f"account:{world.id('maker')}"
    assert entry.detail["token_id"] == token_id


def test_a_token_may_revoke_itself(client, world):
    token = _new_token(client)
    mine = client.get("/api/v1/auth/tokens", headers=_bearer(token)).json
    token_id = next(t["id"] for t in mine if t["current"])
    answer = client.delete(f"/api/v1/auth/tokens/{token_id}", headers=_bearer(token))
    assert answer.status_code == 204
    assert client.get("/api/v1/auth/tokens", headers=_bearer(token)).status_code == 401


def test_revoking_an_unknown_token_is_404_in_the_error_format(client, world):
    answer = client.delete("/api/v1/auth/tokens/999999", headers=world.headers("maker"))
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "not_found"


def test_the_token_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "get" in paths["/api/v1/auth/tokens"]
    assert "delete" in paths["/api/v1/auth/tokens/{token_id}"]


@pytest.mark.parametrize(
    "agent,label",
    [
        (CHROME_ANDROID, "Chrome · Android"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox · Windows",
        ),
        ("python-requests/2.32.3", "python-requests/2.32.3"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_token_is_labelled_with_the_program_that_asked_for_it(agent, label):
    assert client_label(agent) == label
