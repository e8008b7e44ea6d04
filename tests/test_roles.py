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
        # Staff land on their own home from `/` (an admin on the regional view).
        answer = client.get(path.format(laser=world.id("laser")), follow_redirects=True)
        assert answer.status_code == 200, path


# --- staff pages, booking on behalf, and the display -----------------------------------

PAGE_LOGINS = {
    "maker": "maker@example.com",
    "operator": "operator@example.com",
    "mullae_operator": "mullae@example.com",
    "admin": "admin@example.com",
}
STAFF_PAGES = {
    "/ops/floor": {"operator", "mullae_operator", "admin"},
    "/ops/floor?site=mullae": {"mullae_operator", "admin"},
    "/ops/floor?site=seongsu&kind=room": {"operator", "admin"},
    "/ops/today": {"operator", "mullae_operator", "admin"},
    "/ops/approvals": {"operator", "mullae_operator", "admin"},
    "/ops/machines": {"operator", "mullae_operator", "admin"},
    "/ops/alerts": {"operator", "mullae_operator", "admin"},
    "/ops/dead-letters": {"operator", "mullae_operator", "admin"},
    "/ops/machines/seongsu/laser-1": {"operator", "admin"},
    "/ops/machines/seongsu/laser-1/telemetry?field=power_w": {"operator", "admin"},
    "/ops/machines/mullae/lathe-1": {"mullae_operator", "admin"},
    "/admin/accounts": {"operator", "mullae_operator", "admin"},
    "/admin/accounts/new": {"operator", "mullae_operator", "admin"},
    "/admin/accounts/{maker}": {"operator", "mullae_operator", "admin"},
    "/admin/accounts/{admin}": {"admin"},
    "/admin/resources": {"operator", "mullae_operator", "admin"},
    "/admin/resources/new": {"operator", "mullae_operator", "admin"},
    "/admin/resources/{laser}": {"operator", "admin"},
    "/admin/resources/{lathe}": {"mullae_operator", "admin"},
    "/admin/sites": {"admin"},
    "/admin/sites/new": {"admin"},
    "/admin/sites/{seongsu}": {"admin"},
    "/admin/devices": {"operator", "mullae_operator", "admin"},
    "/admin/devices/new": {"operator", "mullae_operator", "admin"},
    "/admin/devices/{laser_ctl}": {"operator", "admin"},
    "/admin/trainings": {"operator", "mullae_operator", "admin"},
    "/admin/plans": {"operator", "mullae_operator", "admin"},
    "/admin/rentals": {"admin"},
    "/admin/regional": {"admin"},
    "/admin/regional.csv": {"admin"},
    "/admin/invoices": {"operator", "mullae_operator", "admin"},
    "/admin/invoices?period=2026-02": {"operator", "mullae_operator", "admin"},
    "/admin/invoices/export.csv?period=2026-02": {"operator", "mullae_operator", "admin"},
    "/admin/invoices/etax.csv?period=2026-02": {"operator", "mullae_operator", "admin"},
}


def _staff_path(path: str, world) -> str:
    return path.format(
        maker=world.id("maker"),
        admin=world.id("admin"),
        laser=world.id("laser"),
        lathe=world.id("lathe"),
        seongsu=world.sites["seongsu"].id,
        laser_ctl=_laser_device(world) if "{laser_ctl}" in path else 0,
    )


def _laser_device(world) -> int:
    """A device of Seongsu's laser, made once per world."""
    from sqlalchemy.orm import object_session
    from sqlmodel import select

    from service.models import Device

    session = object_session(world.sites["seongsu"])
    assert session is not None
    found = session.exec(select(Device).where(Device.slug == "laser-ctl")).first()
    if found is None:
        found = Device(site_id=world.sites["seongsu"].id, slug="laser-ctl")
        session.add(found)
        session.commit()
    assert found.id is not None
    return found.id


@pytest.mark.sqlite_only
@pytest.mark.parametrize("who", ["anonymous", *PAGE_LOGINS])
@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_follow_the_role_matrix(client, world, path, who):
    from tests.pages import login

    if who != "anonymous":
        login(client, PAGE_LOGINS[who])
    answer = client.get(_staff_path(path, world))
    if who == "anonymous":
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith("/login")
    else:
        assert answer.status_code == (200 if who in STAFF_PAGES[path] else 403)


# actor -> status of booking a Seongsu printer for `maker`
ON_BEHALF = {"maker": 403, "other": 403, "operator": 201, "mullae_operator": 403, "admin": 201}


@pytest.mark.parametrize("actor", ON_BEHALF)
def test_booking_on_behalf_follows_the_role_matrix(client, world, actor):
    answer = client.post(
        "/api/v1/reservations",
        headers=world.headers(actor),
        json={
            "resource_id": world.id("printer"),
            "account_id": world.id("other" if actor == "maker" else "maker"),
            **BOOKING,
        },
    )
    assert answer.status_code == ON_BEHALF[actor], answer.json


@pytest.mark.sqlite_only
def test_the_display_opens_for_anyone_with_its_secret_only(client, world):
    from service.models import Resource

    secret = world.resources["printer"].display_secret
    assert isinstance(world.resources["printer"], Resource)
    assert client.get(f"/display/{secret}").status_code == 200
    assert client.get("/display/guess").status_code == 404


@pytest.mark.sqlite_only
@pytest.mark.parametrize("who", ["anonymous", *PAGE_LOGINS])
@pytest.mark.parametrize("path", ["/api/v1/docs", "/api/v1/openapi.json"])
def test_the_api_docs_and_document_open_for_everyone(client, world, path, who):
    from tests.pages import login

    if who != "anonymous":
        login(client, PAGE_LOGINS[who])
    answer = client.get(path)
    assert answer.status_code == 200
    assert (b"/api/v1/reservations" if path.endswith(".json") else b"swagger-ui") in answer.data


# actor -> the status of each staff API call on the Seongsu laser.
STAFF_API = {
    ("POST", "/api/v1/resources/{laser}/blackouts"): {"operator": 201, "admin": 201},
    ("POST", "/api/v1/resources/{laser}/commands"): {"operator": 201, "admin": 201},
}
STAFF_API_BODIES = {
    "blackouts": {
        "start": "2026-03-03T10:00:00+09:00",
        "end": "2026-03-03T12:00:00+09:00",
        "reason": "maintenance",
    },
    "commands": {"action": "disable", "reason": "maintenance"},
}


@pytest.mark.sqlite_only
@pytest.mark.parametrize("call", STAFF_API)
@pytest.mark.parametrize("actor", MATRIX)
def test_staff_api_follows_the_role_matrix(client, session, world, call, actor):
    from service.rules.devices import ensure_devices

    ensure_devices(session=session, site=world.sites["seongsu"])
    session.commit()
    method, path = call
    answer = client.open(
        path.format(laser=world.id("laser")),
        method=method,
        headers=world.headers(actor),
        json=STAFF_API_BODIES[path.rsplit("/", 1)[1]],
    )
    assert answer.status_code == STAFF_API[call].get(actor, 403), answer.json


# actor -> status of GET /api/v1/alerts and of POST /api/v1/alerts/{seongsu alert}/ack
ALERT_API = {
    "maker": (403, 404),
    "other": (403, 404),
    "operator": (200, 200),
    "mullae_operator": (200, 404),
    "admin": (200, 200),
}


@pytest.mark.parametrize("actor", ALERT_API)
def test_the_alerts_api_follows_the_role_matrix(client, session, world, actor):
    from service.models import AlertKind
    from service.rules.devices import new_alert
    from tests.conftest import CURRENT_TIME

    alert = new_alert(
        now=CURRENT_TIME,
        kind=AlertKind.fault,
        subject="seongsu/laser-1",
        message="fault",
        site_id=world.sites["seongsu"].id,
    )
    session.add(alert)
    session.commit()
    listed = client.get("/api/v1/alerts", headers=world.headers(actor))
    acked = client.post(f"/api/v1/alerts/{alert.id}/ack", headers=world.headers(actor), json={})
    assert (listed.status_code, acked.status_code) == ALERT_API[actor]


# -- admin API: who may list and change the catalogue and the people ------------------------

ADMIN_API = {
    ("GET", "/api/v1/accounts"): {"operator", "mullae_operator", "admin"},
    ("GET", "/api/v1/devices"): {"operator", "mullae_operator", "admin"},
    ("GET", "/api/v1/trainings"): {"operator", "mullae_operator", "admin"},
    ("PATCH", "/api/v1/resources/{laser}"): {"operator", "admin"},
    ("PATCH", "/api/v1/resources/{lathe}"): {"mullae_operator", "admin"},
    ("PATCH", "/api/v1/sites/{seongsu}"): {"admin"},
    ("PATCH", "/api/v1/accounts/{other}"): {"operator", "mullae_operator", "admin"},
    ("PATCH", "/api/v1/accounts/{mullae_operator}"): {"admin"},
}


@pytest.mark.sqlite_only
@pytest.mark.parametrize("call", ADMIN_API)
@pytest.mark.parametrize("actor", MATRIX)
def test_admin_api_follows_the_role_matrix(client, world, call, actor):
    method, path = call
    url = path.format(
        laser=world.id("laser"),
        lathe=world.id("lathe"),
        other=world.id("other"),
        mullae_operator=world.id("mullae_operator"),
        seongsu=world.sites["seongsu"].id,
    )
    body = {} if method == "PATCH" else None
    answer = client.open(url, method=method, headers=world.headers(actor), json=body)
    assert answer.status_code == (200 if actor in ADMIN_API[call] else 403), answer.json


# -- staff API endpoints: actor -> status --------------------------------------------------

REPORT_API = {
    "/api/v1/reports/utilisation": {"maker": 403, "operator": 200, "admin": 200},
    "/api/v1/reports/utilisation?format=csv": {"maker": 403, "operator": 200, "admin": 200},
    "/api/v1/invoices/export.csv?period=2026-02": {"maker": 403, "operator": 200, "admin": 200},
    "/api/v1/invoices/etax.csv?period=2026-02": {"maker": 403, "operator": 200, "admin": 200},
    "/api/v1/invoices/etax.json?period=2026-02": {"maker": 403, "operator": 200, "admin": 200},
}


@pytest.mark.parametrize("path", REPORT_API)
def test_the_report_api_follows_the_role_matrix(client, world, path):
    assert client.get(path).status_code == 401
    for actor, status in REPORT_API[path].items():
        assert client.get(path, headers=world.headers(actor)).status_code == status, actor


# --- page logins and API tokens: one's own, and anyone's for an admin -----------------------


def _token_of(client, email: str) -> str:
    from tests.factories import PASSWORD

    answer = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 201
    return str(answer.json["token"])


@pytest.mark.parametrize("actor", MATRIX)
def test_listing_tokens_shows_only_the_callers_own(client, world, actor):
    _token_of(client, "maker@example.com")
    answer = client.get("/api/v1/auth/tokens", headers=world.headers(actor))
    assert answer.status_code == 200
    # The world's one token, plus the maker's new one for the maker.
    assert len(answer.json) == (2 if actor == "maker" else 1)


# Whose token may be revoked: one's own always; another's only by an admin. Others
# get 404, as for a token that does not exist, so ids reveal nothing.
REVOKE_OTHERS = {"maker": 204, "other": 404, "operator": 404, "mullae_operator": 404, "admin": 204}


@pytest.mark.parametrize("actor", REVOKE_OTHERS)
def test_revoking_a_makers_token_follows_the_role_matrix(client, world, actor):
    bearer = {"Authorization": f"Bearer {_token_of(client, 'maker@example.com')}"}
    listed = client.get("/api/v1/auth/tokens", headers=bearer).json
    token_id = next(t["id"] for t in listed if t["current"])
    answer = client.delete(f"/api/v1/auth/tokens/{token_id}", headers=world.headers(actor))
    assert answer.status_code == REVOKE_OTHERS[actor]
    still = client.get("/api/v1/reservations", headers=bearer).status_code
    assert still == (401 if REVOKE_OTHERS[actor] == 204 else 200)


TOKEN_CALLS = [("get", "/api/v1/auth/tokens"), ("delete", "/api/v1/auth/tokens/1")]


@pytest.mark.parametrize("call", TOKEN_CALLS)
def test_the_token_endpoints_need_a_token(client, world, call):
    method, path = call
    answer = getattr(client, method)(path)
    assert answer.status_code == 401
    assert answer.json["error"]["code"] == "unauthorized"


# The settings page's revoke button follows the same rule: own tokens, or an admin's say.
PAGE_REVOKE = {
    "anonymous": 302,
    "maker": 302,
    "operator": 404,
    "mullae_operator": 404,
    "admin": 302,
}


@pytest.mark.sqlite_only
@pytest.mark.parametrize("who", PAGE_REVOKE)
def test_revoking_from_the_settings_page_follows_the_role_matrix(client, world, who):
    from tests.pages import csrf_token, login

    bearer = {"Authorization": f"Bearer {_token_of(client, 'maker@example.com')}"}
    token_id = next(t["id"] for t in client.get("/api/v1/auth/tokens", headers=bearer).json)
    if who != "anonymous":
        login(client, PAGE_LOGINS[who])
    form = {"csrf_token": csrf_token(client, "/login")}
    answer = client.post(f"/me/settings/tokens/{token_id}/revoke", data=form)
    assert answer.status_code == PAGE_REVOKE[who]
    revoked = who in ("maker", "admin")
    still = client.get("/api/v1/reservations", headers=bearer).status_code
    assert still == (401 if revoked else 200)


DEVICE_CREDENTIALS_API = {"operator", "admin"}


@pytest.mark.sqlite_only
@pytest.mark.parametrize("action", ["rotate", "revoke"])
@pytest.mark.parametrize("actor", MATRIX)
def test_device_credentials_api_follows_the_role_matrix(client, session, world, action, actor):
    from service.models import Device

    device = Device(site_id=world.sites["seongsu"].id, slug="laser-ctl")
    session.add(device)
    session.commit()
    answer = client.post(
        f"/api/v1/devices/{device.id}/{action}", headers=world.headers(actor), json={}
    )
    allowed = actor in DEVICE_CREDENTIALS_API
    assert answer.status_code == (200 if allowed else 403), answer.json


@pytest.mark.sqlite_only
@pytest.mark.parametrize("action", ["rotate", "revoke"])
@pytest.mark.parametrize("who", PAGE_LOGINS)
def test_device_credential_forms_follow_the_role_matrix(client, world, action, who):
    from tests.pages import csrf_token, login

    login(client, PAGE_LOGINS[who])
    answer = client.post(
        f"/admin/devices/{_laser_device(world)}/{action}",
        data={"csrf_token": csrf_token(client, "/")},
    )
    allowed = who in DEVICE_CREDENTIALS_API
    assert answer.status_code == (302 if allowed else 403)


# -- corrections of the ledger: only an administrator credits and invoices again ------------

# actor -> status of POST /api/v1/invoices/{maker's February invoice}/credit, then /reissue
LEDGER_API = {
    "maker": (403, 403),
    "other": (403, 403),
    "operator": (403, 403),
    "mullae_operator": (403, 403),
    "admin": (201, 201),
}


@pytest.mark.parametrize("actor", LEDGER_API)
def test_correcting_an_invoice_follows_the_role_matrix(client, session, world, priced, actor):
    from tests.factories import make_run

    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    session.commit()
    admin = world.headers("admin")
    (invoice,) = client.post("/api/v1/invoices/issue?period=2026-02", headers=admin).json
    base = f"/api/v1/invoices/{invoice['id']}"
    credited = client.post(f"{base}/credit", headers=world.headers(actor), json={"reason": "rate"})
    if credited.status_code == 403:
        assert (
            client.post(f"{base}/credit", headers=admin, json={"reason": "rate"}).status_code == 201
        )
    reissued = client.post(f"{base}/reissue", headers=world.headers(actor))
    assert (credited.status_code, reissued.status_code) == LEDGER_API[actor], reissued.json


# actor -> status of reading and of recording a payment of the maker's February invoice
# (a line at Seongsu): the owner reads it; staff who see it mark it paid.
PAYMENT_API = {
    "maker": (200, 403),
    "other": (404, 403),
    "operator": (200, 201),
    "mullae_operator": (404, 404),
    "admin": (200, 201),
}


@pytest.mark.parametrize("actor", PAYMENT_API)
def test_invoice_payments_follow_the_role_matrix(client, session, terms, world, actor):
    from tests.billing import invoice_of, issue
    from tests.factories import make_run

    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    session.commit()
    invoice = invoice_of(issue(session, terms), world, "maker")
    url = f"/api/v1/invoices/{invoice.id}/payments"
    read = client.get(url, headers=world.headers(actor))
    paid = client.post(url, headers=world.headers(actor), json={})
    assert (read.status_code, paid.status_code) == PAYMENT_API[actor], paid.json


# actor -> status of GET /api/v1/invoices/reconcile for an issued month (operators: their sites)
RECONCILE_API = {
    "maker": 403,
    "other": 403,
    "operator": 200,
    "mullae_operator": 200,
    "admin": 200,
}


@pytest.mark.parametrize("actor", RECONCILE_API)
def test_reconciling_a_month_follows_the_role_matrix(client, session, world, priced, actor):
    from tests.factories import make_run

    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    session.commit()
    admin = world.headers("admin")
    assert client.post("/api/v1/invoices/issue?period=2026-02", headers=admin).status_code == 201
    path = "/api/v1/invoices/reconcile?period=2026-02"
    assert client.get(path).status_code == 401
    answer = client.get(path, headers=world.headers(actor))
    assert answer.status_code == RECONCILE_API[actor], answer.json


# -- prices and memberships: staff read, admins write ----------------------------------------

PLANS_API = {
    ("GET", "/api/v1/rate-plans"): {"operator": 200, "mullae_operator": 200, "admin": 200},
    ("POST", "/api/v1/rate-plans"): {"admin": 201},
    ("POST", "/api/v1/rate-plans/{plan}/prices"): {"admin": 201},
    ("GET", "/api/v1/membership-plans"): {"operator": 200, "mullae_operator": 200, "admin": 200},
    ("POST", "/api/v1/membership-plans"): {"admin": 201},
    ("POST", "/api/v1/membership-plans/{membership}/prices"): {"admin": 201},
    ("GET", "/api/v1/accounts/{maker}/memberships"): {
        "operator": 200,
        "mullae_operator": 200,
        "admin": 200,
    },
    ("POST", "/api/v1/accounts/{maker}/memberships"): {"admin": 201},
}
PLANS_BODIES = {
    "/api/v1/rate-plans": {"name": "laser by the hour", "basis": "run_time", "price_per_hour": 1},
    "/api/v1/rate-plans/{plan}/prices": {"valid_from": "2026-04-01", "price_per_hour": 2},
    "/api/v1/membership-plans": {"name": "maker club", "monthly_fee": 10_000},
    "/api/v1/membership-plans/{membership}/prices": {"valid_from": "2026-04-01"},
    "/api/v1/accounts/{maker}/memberships": {"membership_plan_id": 0, "valid_from": "2026-04-01"},
}


@pytest.mark.sqlite_only
@pytest.mark.parametrize("call", PLANS_API)
@pytest.mark.parametrize("actor", MATRIX)
def test_the_prices_api_follows_the_role_matrix(client, session, world, call, actor):
    from service.models import MembershipPlan, RatePlan

    plan, membership = RatePlan(name="room", basis="booked_time"), MembershipPlan(name="club")
    session.add_all([plan, membership])
    session.commit()
    method, path = call
    body = dict(PLANS_BODIES.get(path, {}))
    if "membership_plan_id" in body:
        body["membership_plan_id"] = membership.id
    url = path.format(plan=plan.id, membership=membership.id, maker=world.id("maker"))
    answer = client.open(
        url, method=method, headers=world.headers(actor), json=body if method == "POST" else None
    )
    assert answer.status_code == PLANS_API[call].get(actor, 403), answer.json


# -- rental contracts: only an administrator lets rooms --------------------------------------

# actor -> status of listing, creating, reading, changing and removing a rental contract
RENTAL_API = {
    "maker": (403, 403, 403, 403, 403),
    "other": (403, 403, 403, 403, 403),
    "operator": (403, 403, 403, 403, 403),
    "mullae_operator": (403, 403, 403, 403, 403),
    "admin": (200, 201, 200, 200, 204),
}


@pytest.mark.parametrize("actor", RENTAL_API)
def test_rental_contracts_follow_the_role_matrix(client, world, actor):
    headers, admin = world.headers(actor), world.headers("admin")
    body = {
        "resource_id": world.id("room"),
        "account_id": world.id("maker"),
        "start_date": "2026-04-01",
        "monthly_fee": 900_000,
    }
    listed = client.get("/api/v1/rental-contracts", headers=headers)
    created = client.post("/api/v1/rental-contracts", headers=headers, json=body)
    made = created.status_code
    if made == 403:  # the admin lets it, so the others' reads and changes meet a contract
        created = client.post("/api/v1/rental-contracts", headers=admin, json=body)
    one = f"/api/v1/rental-contracts/{created.json['id']}"
    read = client.get(one, headers=headers)
    changed = client.patch(one, headers=headers, json={"monthly_fee": 950_000})
    removed = client.delete(one, headers=headers)
    got = (listed.status_code, made, *(a.status_code for a in (read, changed, removed)))
    assert got == RENTAL_API[actor]
