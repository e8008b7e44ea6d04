"""Bad input gets a 4xx in the error format, never a 500 or a stack trace."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

GOOD = {"start": "2026-03-03T10:00:00+09:00", "end": "2026-03-03T11:00:00+09:00"}


def assert_error(answer, status: int, code: str | None = None) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    error = answer.json["error"]
    assert set(error) <= {"code", "message", "details"}
    assert error["message"]
    assert "Traceback" not in answer.get_data(as_text=True)
    if code:
        assert error["code"] == code


def post(client, world, body, **kw):
    return client.post(
        "/api/v1/reservations",
        headers=world.headers("maker"),
        **kw,
        **({"json": body} if body is not None else {}),
    )


def test_malformed_json_is_400(client, world):
    answer = post(client, world, None, data='{"resource_id": 1,', content_type="application/json")
    assert_error(answer, 400, "malformed_json")


def test_unknown_fields_are_422(client, world):
    answer = post(client, world, {"resource_id": world.id("printer"), **GOOD, "colour": "red"})
    assert_error(answer, 422, "validation_error")
    assert answer.json["error"]["details"][0]["loc"] == ["colour"]


@pytest.mark.parametrize(
    "start", ["2026-03-03T10:00:00", "tomorrow", "2026-13-03T10:00:00Z", "", "1900-01-01T00:00:00Z"]
)
def test_naive_unparsable_or_absurd_datetimes_are_422(client, world, start):
    answer = post(
        client, world, {"resource_id": world.id("printer"), "start": start, "end": GOOD["end"]}
    )
    assert_error(answer, 422, "validation_error")


def test_end_before_start_is_422(client, world):
    answer = post(
        client,
        world,
        {"resource_id": world.id("printer"), "start": GOOD["end"], "end": GOOD["start"]},
    )
    assert_error(answer, 422, "invalid_range")


@pytest.mark.parametrize(
    "body",
    [
        {"resource_id": "printer", **GOOD},
        {"resource_id": 1.5, **GOOD},
        {"resource_id": None, **GOOD},
        {"resource_id": 1, "start": 5, "end": True},
        {"resource_id": 1, "start": [], "end": {}},
        [],
        "text",
    ],
)
def test_wrong_types_are_422(client, world, body):
    assert_error(post(client, world, body), 422, "validation_error")


def test_unknown_resource_is_404(client, world):
    assert_error(post(client, world, {"resource_id": 99999, **GOOD}), 404, "not_found")


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_reservation_is_404(client, world, method):
    kwargs = {"json": {"note": "x"}} if method == "patch" else {}
    answer = getattr(client, method)(
        "/api/v1/reservations/424242", headers=world.headers("maker"), **kwargs
    )
    assert_error(answer, 404, "not_found")


def test_oversize_body_is_413(client, world):
    body = {"resource_id": world.id("printer"), **GOOD, "note": "x" * 100_000}
    assert_error(
        post(client, world, None, data=json.dumps(body), content_type="application/json"), 413
    )


@pytest.mark.parametrize(
    "query",
    [
        "",
        "from=2026-03-03T00:00:00&to=2026-03-04T00:00:00",
        "from=x&to=y",
        "from=2026-03-04T00:00:00Z&to=2026-03-03T00:00:00Z",
        "from=2026-03-01T00:00:00Z&to=2026-12-01T00:00:00Z",
    ],
)
def test_bad_availability_queries_are_422(client, world, query):
    answer = client.get(
        f"/api/v1/resources/{world.id('printer')}/availability?{query}",
        headers=world.headers("maker"),
    )
    assert_error(answer, 422)


def test_unknown_path_and_wrong_method_use_the_error_format(client, world):
    assert_error(client.get("/api/v1/nothing-here", headers=world.headers("maker")), 404)
    assert_error(client.put("/api/v1/reservations", headers=world.headers("maker")), 405)


# Generated input: anything JSON can say, shaped loosely like a booking.
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
)
datetimes_text = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
    st.text(max_size=30),
)
bookings = st.fixed_dictionaries(
    {},
    optional={
        "resource_id": st.one_of(st.integers(-5, 10), json_scalars),
        "start": datetimes_text,
        "end": datetimes_text,
        "note": st.one_of(st.text(max_size=600), json_scalars),
        "recurrence": st.one_of(
            json_scalars,
            st.fixed_dictionaries(
                {},
                optional={
                    "freq": st.sampled_from(["daily", "weekly", "hourly", ""]),
                    "interval": st.integers(-2, 60),
                    "count": st.integers(-2, 2000),
                    "until": datetimes_text,
                    "skip_conflicts": st.booleans(),
                },
            ),
        ),
        "account_id": st.one_of(st.integers(-1, 10), json_scalars),
        "override_reason": st.one_of(st.text(max_size=20), json_scalars),
    },
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(body=st.one_of(bookings, json_scalars, st.lists(json_scalars, max_size=3)))
def test_generated_bookings_never_cause_a_500(client, world, body):
    answer = post(client, world, body)
    assert answer.status_code < 500, (body, answer.get_data(as_text=True))
    if answer.status_code >= 400:
        assert_error(answer, answer.status_code)


@FUZZ
@given(body=bookings, actor=st.sampled_from(["maker", "operator", "other"]))
def test_generated_moves_never_cause_a_500(client, world, body, actor):
    made = post(
        client,
        world,
        {
            "resource_id": world.id("room"),
            "start": "2026-03-04T10:00:00+09:00",
            "end": "2026-03-04T11:00:00+09:00",
        },
    )
    rid = made.json["id"] if made.status_code == 201 else 1
    patch = {k: v for k, v in body.items() if k in ("start", "end", "note", "override_reason")}
    answer = client.patch(f"/api/v1/reservations/{rid}", headers=world.headers(actor), json=patch)
    assert answer.status_code < 500, (patch, answer.get_data(as_text=True))
    extend = client.post(
        f"/api/v1/reservations/{rid}/extend",
        headers=world.headers(actor),
        json={"end": body.get("end")},
    )
    assert extend.status_code < 500, (body, extend.get_data(as_text=True))


@FUZZ
@given(start=datetimes_text, end=datetimes_text, resource=st.integers(-1, 10))
def test_generated_availability_queries_never_cause_a_500(client, world, start, end, resource):
    answer = client.get(
        f"/api/v1/resources/{resource}/availability",
        query_string={"from": start, "to": end},
        headers=world.headers("maker"),
    )
    assert answer.status_code < 500, (start, end, answer.get_data(as_text=True))


HUGE = 2**70


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/reservations/{HUGE}",
        f"/api/v1/resources/{HUGE}",
        f"/api/v1/resources/{HUGE}/availability?from=2026-03-03T00:00:00Z&to=2026-03-04T00:00:00Z",
    ],
)
def test_ids_past_64_bits_are_404_not_500(client, world, path):
    assert_error(client.get(path, headers=world.headers("maker")), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/v1/reservations/2147483648"),
        ("PATCH", f"/api/v1/reservations/{HUGE}"),
        ("PATCH", "/api/v1/resources/2147483648"),
        ("DELETE", "/api/v1/trainings/2147483648"),
    ],
)
def test_ids_past_the_largest_are_404_for_every_method_not_405(client, world, method, path):
    answer = client.open(path, method=method, headers=world.headers("admin"), json={})
    assert_error(answer, 404, "not_found")


@pytest.mark.parametrize("field", ["resource_id", "account_id"])
def test_ids_past_64_bits_in_a_body_are_422(client, world, field):
    body = {"resource_id": world.id("printer"), **GOOD, field: HUGE}
    assert_error(post(client, world, body), 422, "validation_error")
