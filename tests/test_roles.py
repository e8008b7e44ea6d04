"""Who may see and change what: makers their own, operators their site's, admins all."""

from __future__ import annotations

import pytest

BOOKING = {"start": "2026-03-03T10:00:00+09:00", "end": "2026-03-03T11:00:00+09:00"}

# actor -> may they see/change a Seongsu reservation that belongs to `maker`?
MATRIX = {
    "maker": True,
    "other": False,
    "operator": True,
    "mullae_operator": False,
    "admin": True,
}


@pytest.fixture
def makers_booking(client, world) -> int:
    answer = client.post(
        "/api/v1/reservations",
        headers=world.headers("maker"),
        json={"resource_id": world.id("printer"), **BOOKING},
    )
    assert answer.status_code == 201, answer.json
    return int(answer.json["id"])


@pytest.mark.parametrize("actor", MATRIX)
def test_reading_a_reservation_follows_the_role_matrix(client, world, makers_booking, actor):
    answer = client.get(f"/api/v1/reservations/{makers_booking}", headers=world.headers(actor))
    assert answer.status_code == (200 if MATRIX[actor] else 404)


@pytest.mark.parametrize("actor", MATRIX)
def test_changing_a_reservation_follows_the_role_matrix(client, world, makers_booking, actor):
    answer = client.patch(
        f"/api/v1/reservations/{makers_booking}",
        headers=world.headers(actor),
        json={"note": "bring own material"},
    )
    assert answer.status_code == (200 if MATRIX[actor] else 404)
    if MATRIX[actor]:
        assert answer.json["note"] == "bring own material"


@pytest.mark.parametrize("actor", MATRIX)
def test_cancelling_a_reservation_follows_the_role_matrix(client, world, makers_booking, actor):
    answer = client.delete(f"/api/v1/reservations/{makers_booking}", headers=world.headers(actor))
    assert answer.status_code == (200 if MATRIX[actor] else 404)
    still = client.get(f"/api/v1/reservations/{makers_booking}", headers=world.headers("admin"))
    assert still.json["status"] == ("cancelled" if MATRIX[actor] else "confirmed")


@pytest.mark.parametrize("actor", MATRIX)
def test_listing_shows_only_what_the_role_may_see(client, world, makers_booking, actor):
    answer = client.get("/api/v1/reservations", headers=world.headers(actor))
    assert answer.status_code == 200
    ids = [r["id"] for r in answer.json]
    assert ids == ([makers_booking] if MATRIX[actor] else [])


def test_mine_lists_only_the_callers_own_reservations(client, world, makers_booking):
    answer = client.get("/api/v1/reservations?mine=1", headers=world.headers("operator"))
    assert answer.status_code == 200
    assert answer.json == []


def test_a_maker_cannot_approve_their_own_pending_booking(client, world):
    made = client.post(
        "/api/v1/reservations",
        headers=world.headers("maker"),
        json={"resource_id": world.id("embroidery"), **BOOKING},
    )
    assert made.json["status"] == "pending"
    answer = client.post(
        f"/api/v1/reservations/{made.json['id']}/approve", headers=world.headers("maker")
    )
    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "forbidden"


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic abc", "Bearer "])
def test_api_without_a_valid_token_is_401(client, header):
    headers = {"Authorization": header} if header else {}
    answer = client.get("/api/v1/reservations", headers=headers)
    assert answer.status_code == 401
    assert answer.json["error"]["code"] == "unauthorized"


def test_token_from_password_opens_the_api(client, world):
    from tests.factories import PASSWORD

    answer = client.post(
        "/api/v1/auth/token", json={"email": "maker@example.com", "password": PASSWORD}
    )
    assert answer.status_code == 201
    token = answer.json["token"]
    mine = client.get("/api/v1/reservations", headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 200


@pytest.mark.parametrize(
    "email,password",
    [("maker@example.com", "wrong password"), ("nobody@example.com", "correct horse battery")],
)
def test_wrong_password_or_unknown_email_gets_no_token(client, world, email, password):
    answer = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert answer.status_code == 401
    assert "token" not in answer.json


def test_passwords_are_stored_hashed_with_scrypt(session, world):
    from service.models import Account

    account = session.get(Account, world.id("maker"))
    assert account.password_hash.startswith("scrypt:")
    assert "correct horse" not in account.password_hash


# -- pages: every page asks for a login; each role then sees what is theirs ----------------

PAGES = ["/", "/resources", "/resources?site=mullae&kind=machine", "/free", "/resources/{laser}"]
PEOPLE = {
    "maker": "maker@example.com",
    "operator": "operator@example.com",
    "admin": "admin@example.com",
}


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_anonymous_visitors_to_the_login(client, world, path):
    answer = client.get(path.format(laser=world.id("laser")))
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("actor", PEOPLE)
def test_every_role_sees_the_pages_for_everyone(client, world, actor):
    from tests.pages import login

    login(client, email=PEOPLE[actor])
    for path in PAGES:
        # `/` is each role's home: staff go on to their own (the floor, where it exists).
        answer = client.get(path.format(laser=world.id("laser")), follow_redirects=True)
        assert answer.status_code == 200, path


# -- staff pages: makers get 403, visitors the login, the roles named here the page --------

STAFF_PAGES = {
    "/ops/floor": {"operator", "admin"},
    "/ops/floor?site=mullae": {"admin"},
    "/ops/floor?kind=room": {"operator", "admin"},
}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_follow_the_role_matrix(app, world, path):
    from tests.pages import login

    answer = app.test_client().get(path)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=")
    for actor, email in PEOPLE.items():
        client = app.test_client()
        login(client, email=email)
        answer = client.get(path)
        assert answer.status_code == (200 if actor in STAFF_PAGES[path] else 403), (actor, path)
