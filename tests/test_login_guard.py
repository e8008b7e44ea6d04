"""Logins: wrong passwords are bounded per account (in SQL) and per client, and audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from service.app import create_app
from service.errors import TooManyRequests, Unauthorized
from service.models import AuditLog
from service.rules.login_guard import FAILURES, LOCK, WINDOW, log_in
from tests.conftest import CURRENT_TIME
from tests.factories import PASSWORD
from tests.pages import csrf_token, login

MAKER = "maker@example.com"


def attempt(session, password, *, at=CURRENT_TIME, email=MAKER, address="192.0.2.7"):
    try:
        account = log_in(session=session, now=at, email=email, password=password, address=address)
    except (Unauthorized, TooManyRequests) as exc:
        session.commit()
        return exc
    session.commit()
    return account


def entries(session, action):
    session.expire_all()
    return list(session.exec(select(AuditLog).where(AuditLog.action == action)))


# -- the rule, on both databases -----------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(session, world):
    for i in range(FAILURES):
        assert isinstance(
            attempt(session, "wrong", at=CURRENT_TIME + timedelta(seconds=i)), Unauthorized
        )
    refused = attempt(session, PASSWORD, at=CURRENT_TIME + timedelta(seconds=10))
    assert isinstance(refused, TooManyRequests)
    assert refused.status == 429 and 0 < refused.details["retry_after_s"] <= LOCK.total_seconds()
    # The lock ends LOCK after the last counted failure; then the right password works.
    later = CURRENT_TIME + timedelta(seconds=FAILURES - 1) + LOCK + timedelta(seconds=1)
    assert attempt(session, PASSWORD, at=later).id == world.id("maker")


def test_failures_spread_wider_than_the_window_do_not_lock(session, world):
    for i in range(FAILURES * 2):
        at = CURRENT_TIME + i * (WINDOW / (FAILURES - 1)) + timedelta(seconds=1) * i
        assert isinstance(attempt(session, "wrong", at=at), Unauthorized)
    at = CURRENT_TIME + FAILURES * 2 * WINDOW / (FAILURES - 1) + timedelta(minutes=1)
    assert attempt(session, PASSWORD, at=at).id == world.id("maker")


def test_a_successful_login_starts_the_count_again(session, world):
    for _ in range(FAILURES - 1):
        attempt(session, "wrong")
    assert attempt(session, PASSWORD).id == world.id("maker")
    for _ in range(FAILURES - 1):
        attempt(session, "wrong")
    assert attempt(session, PASSWORD).id == world.id("maker")


def test_attempts_while_locked_do_not_extend_the_lock(session, world):
    for _ in range(FAILURES):
        attempt(session, "wrong")
    for minute in range(1, 15):
        at = CURRENT_TIME + timedelta(minutes=minute)
        assert isinstance(attempt(session, "wrong", at=at), TooManyRequests)
    assert len(entries(session, "login.locked")) == 14
    assert attempt(session, PASSWORD, at=CURRENT_TIME + LOCK + timedelta(seconds=1)).id


def test_each_failure_is_audited_with_email_and_address_never_the_password(session, world):
    attempt(session, "secret-guess-1", email=" Maker@Example.com ")
    attempt(session, "secret-guess-2", email="nobody@example.com")
    first, second = sorted(entries(session, "login.failed"), key=lambda e: e.id)
    assert first.subject == f"account:{world.id('maker')}" and first.actor_id == world.id("maker")
    assert first.detail == {"email": MAKER, "address": "192.0.2.7"}
    assert second.subject.startswith("email:") and second.actor_id is None
    assert second.detail["email"] == "nobody@example.com"
    assert "secret-guess" not in str(first.detail) + str(second.detail)


def test_an_unknown_email_is_locked_like_a_known_one(session, world):
    for _ in range(FAILURES):
        assert isinstance(attempt(session, "wrong", email="ghost@example.com"), Unauthorized)
    assert isinstance(attempt(session, "wrong", email="ghost@example.com"), TooManyRequests)
    # Another account is not affected.
    assert attempt(session, PASSWORD).id == world.id("maker")


def test_a_lock_holds_across_processes(engine, session, world, settings):
    # Two apps on one database, as two web processes: the failures of one lock the other.
    first, second = (create_app(settings, engine) for _ in range(2))
    for app in (first, second):
        app.config.update(TESTING=True, CLOCK=lambda: CURRENT_TIME)
    for i in range(FAILURES):
        app = (first, second)[i % 2]
        answer = app.test_client().post(
            "/api/v1/auth/token", json={"email": MAKER, "password": "wrong"}
        )
        assert answer.status_code == 401
    answer = first.test_client().post(
        "/api/v1/auth/token", json={"email": MAKER, "password": PASSWORD}
    )
    assert answer.status_code == 429
    assert answer.json["error"]["code"] == "too_many_requests"
    assert int(answer.headers["Retry-After"]) > 0
    assert len(entries(session, "login.failed")) == FAILURES


# -- pages and API: the limits per client and per e-mail --------------------------------------


@pytest.mark.sqlite_only
def test_the_api_token_refuses_past_the_per_address_limit(client, session, world):
    # Different e-mails, one client address: the address's limit (20 a minute) answers.
    codes = [
        client.post(
            "/api/v1/auth/token", json={"email": f"nobody{i}@example.com", "password": "x"}
        ).status_code
        for i in range(21)
    ]
    assert codes[:20] == [401] * 20 and codes[20] == 429
    answer = client.post("/api/v1/auth/token", json={"email": MAKER, "password": PASSWORD})
    assert answer.status_code == 429
    assert set(answer.json["error"]) >= {"code", "message"}
    assert answer.json["error"]["code"] == "too_many_requests"
    assert "Retry-After" in answer.headers


@pytest.mark.sqlite_only
def test_the_per_account_limit_counts_across_addresses(client, world):
    codes = [
        client.post(
            "/api/v1/auth/token",
            json={"email": "nobody@example.com", "password": "x"},
            environ_base={"REMOTE_ADDR": f"192.0.2.{i}"},
        ).status_code
        for i in range(11)
    ]
    # Five wrong passwords lock the e-mail (429 from the rule); the 11th is the limiter's.
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}


@pytest.mark.sqlite_only
def test_the_login_page_says_when_there_were_too_many_attempts(client, session, world):
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client)})
    for _ in range(FAILURES):
        assert login(client, password="wrong password").status_code == 401
    page = login(client)
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    assert "Too many failed logins" in page.text
    assert len(entries(session, "login.failed")) == FAILURES
    assert len(entries(session, "login.locked")) == 1


@pytest.mark.sqlite_only
def test_the_login_page_is_limited_per_address_in_korean(client, world):
    for i in range(20):
        login(client, email=f"nobody{i}@example.com", password="wrong password")
    page = login(client, email="someone@example.com", password="wrong password")
    assert page.status_code == 429
    assert "로그인 시도가 너무 많습니다" in page.text


@pytest.mark.sqlite_only
def test_behind_a_proxy_the_client_address_is_the_forwarded_one(settings, engine, session, world):
    web = settings.web.model_copy(update={"proxy_hops": 1})
    app = create_app(settings.model_copy(update={"web": web}), engine)
    app.config.update(TESTING=True, CLOCK=lambda: CURRENT_TIME)
    client = app.test_client()
    for i in range(25):
        answer = client.post(
            "/api/v1/auth/token",
            json={"email": f"nobody{i}@example.com", "password": "x"},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
        )
        assert answer.status_code == 401  # each client its own count
    [entry] = [
        e for e in entries(session, "login.failed") if e.detail["email"] == "nobody3@example.com"
    ]
    assert entry.detail["address"] == "198.51.100.3"
