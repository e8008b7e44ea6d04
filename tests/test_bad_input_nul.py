"""Text a database refuses (NUL, lone surrogates) is a clean 4xx everywhere, on both databases."""

from __future__ import annotations

import json

import pytest

from tests.factories import seoul
from tests.pages import csrf_token, login

GOOD = {"start": "2026-03-03T10:00:00+09:00", "end": "2026-03-03T11:00:00+09:00"}
BAD_TEXT = ["a\x00b", "\x00", "x\ud800y", "\udfff"]


def assert_error(answer, status: int, code: str | None = None) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    error = answer.json["error"]
    assert set(error) <= {"code", "message", "details"}
    assert error["message"]
    if code:
        assert error["code"] == code


def raw_json(client, path: str, body: object, **kw):
    """POST JSON as text, so lone surrogates go out as \\ud800 escapes."""
    return client.post(path, data=json.dumps(body), content_type="application/json", **kw)


@pytest.mark.parametrize("text", BAD_TEXT)
def test_token_with_bad_email_is_422_without_logging_in(client, world, text):
    answer = raw_json(client, "/api/v1/auth/token", {"email": text, "password": "x"})
    assert_error(answer, 422, "invalid_text")
    assert answer.json["error"]["details"] == {"field": "body.email"}


@pytest.mark.parametrize("text", BAD_TEXT)
def test_note_with_bad_text_is_422(client, world, text):
    body = {"resource_id": world.id("printer"), **GOOD, "note": text}
    answer = raw_json(client, "/api/v1/reservations", body, headers=world.headers("maker"))
    assert_error(answer, 422, "invalid_text")


def test_bad_text_in_a_json_key_is_422(client, world):
    body = {"resource_id": world.id("printer"), **GOOD, "no\x00te": "x"}
    answer = raw_json(client, "/api/v1/reservations", body, headers=world.headers("maker"))
    assert_error(answer, 422, "invalid_text")


def test_bad_text_in_a_moved_note_is_422(client, world):
    made = raw_json(
        client,
        "/api/v1/reservations",
        {"resource_id": world.id("printer"), **GOOD},
        headers=world.headers("maker"),
    )
    assert made.status_code == 201, made.json
    answer = client.patch(
        f"/api/v1/reservations/{made.json['id']}",
        headers=world.headers("maker"),
        json={"note": "red\x00thread"},
    )
    assert_error(answer, 422, "invalid_text")


# A URL or form cannot carry a lone surrogate (it arrives as U+FFFD); JSON can, above.
@pytest.mark.parametrize("value", ["\x00", "seongsu\x00"])
def test_query_parameter_with_bad_text_is_422(client, world, value):
    answer = client.get(
        "/api/v1/resources", headers=world.headers("maker"), query_string={"site": value}
    )
    assert_error(answer, 422, "invalid_text")
    assert answer.json["error"]["details"] == {"field": "query.site"}


def test_query_parameter_name_with_bad_text_is_422(client, world):
    answer = client.get("/api/v1/resources?si%00te=seongsu", headers=world.headers("maker"))
    assert_error(answer, 422, "invalid_text")


def test_good_text_still_passes(client, world):
    answer = client.get(
        "/api/v1/resources", headers=world.headers("maker"), query_string={"site": "성수 ü 🙂"}
    )
    assert answer.status_code == 200, answer.json
    body = {"resource_id": world.id("printer"), **GOOD, "note": "빨간 실 🧵"}
    made = raw_json(client, "/api/v1/reservations", body, headers=world.headers("maker"))
    assert made.status_code == 201, made.json
    assert made.json["note"] == "빨간 실 🧵"


@pytest.mark.parametrize("path", ["/ical/%00.ics", "/ical/abc%00def.ics"])
def test_ical_secret_with_nul_is_404_without_logging_in(client, world, path):
    answer = client.get(path)
    assert answer.status_code == 404
    assert "Traceback" not in answer.get_data(as_text=True)


def test_api_path_part_with_nul_is_404_in_the_error_format(client, world):
    answer = client.get("/api/v1/docs/static/a%00b.js")
    assert_error(answer, 404, "not_found")


def test_page_path_part_with_nul_is_404_page(client, world):
    login(client, "operator@example.com")
    answer = client.get("/ops/machines/seongsu%00/laser-1")
    assert answer.status_code == 404
    assert "<html" in answer.get_data(as_text=True).lower()


@pytest.mark.parametrize("text", ["maker\x00@example.com", "\x00"])
def test_login_form_with_bad_email_is_422_page(client, world, text):
    answer = client.post(
        "/login", data={"email": text, "password": "x", "csrf_token": csrf_token(client)}
    )
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "<html" in page.lower()
    assert "저장할 수 없는 문자" in page


def test_page_query_parameter_with_nul_is_422_page(client, world):
    login(client)
    answer = client.get("/resources?site=%00")
    assert answer.status_code == 422
    assert "저장할 수 없는 문자" in answer.get_data(as_text=True)


def test_page_form_note_with_nul_is_422_page(client, world):
    login(client)
    answer = client.post(
        f"/me/reservations/{world.id('printer')}/move",
        data={"day": "2026-03-03", "start": "10:00\x00", "csrf_token": csrf_token(client, "/")},
    )
    assert answer.status_code == 422


def test_a_refused_request_leaves_the_next_one_working(client, world):
    raw_json(client, "/api/v1/auth/token", {"email": "\x00", "password": "x"})
    answer = client.get(
        "/api/v1/reservations",
        headers=world.headers("maker"),
        query_string={"from": seoul("2026-03-01 00:00").isoformat()},
    )
    assert answer.status_code == 200, answer.json


def test_json_body_sent_as_plain_text_is_checked_too(client, world):
    answer = client.post(
        "/api/v1/auth/token",
        data=json.dumps({"email": "a\x00b", "password": "x"}),
        content_type="text/plain",
    )
    assert_error(answer, 422, "invalid_text")


def test_bearer_token_with_nul_is_401(client, world):
    answer = client.get("/api/v1/sites", headers={"Authorization": "Bearer ab\x00cd"})
    assert_error(answer, 401, "unauthorized")


@pytest.mark.parametrize("depth", [500, 5000])
def test_deeply_nested_json_is_a_4xx_not_a_crash(client, world, depth):
    body = "[" * depth + '"\\u0000"' + "]" * depth
    answer = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert 400 <= answer.status_code < 500, answer.get_data(as_text=True)[:300]
    assert "error" in answer.json
