"""Administering the catalogue and the people over the API: validated, audited, scoped."""

from __future__ import annotations

import pytest
from sqlmodel import select

from service.models import ApiToken, AuditLog, Blackout, Device, OpeningHours, Resource, Training
from service.rules.device_credentials import verify_password
from tests.factories import PASSWORD, refused

NEW_RESOURCE = {"kind": "machine", "slug": "uv-1", "name": "UV 프린터", "rate_per_hour": 9000}


def audited(session, action: str) -> list[AuditLog]:
    session.rollback()
    session.expire_all()
    return list(session.exec(select(AuditLog).where(AuditLog.action == action)))


# -- accounts ----------------------------------------------------------------------------


def test_admin_creates_an_operator_with_a_made_up_password_shown_once(client, world, session):
    answer = client.post(
        "/api/v1/accounts",
        headers=world.headers("admin"),
        json={
            "email": " New.Operator@Example.com ",
            "name": "새 운영자",
            "role": "operator",
            "site_id": world.sites["mullae"].id,
        },
    )
    assert answer.status_code == 201, answer.json
    body = answer.json
    assert body["email"] == "new.operator@example.com"
    assert body["role"] == "operator" and body["site_id"] == world.sites["mullae"].id
    assert len(body["password"]) >= 12
    token = client.post(
        "/api/v1/auth/token", json={"email": body["email"], "password": body["password"]}
    )
    assert token.status_code == 201
    [entry] = audited(session, "account.created")
    assert entry.actor_id == world.id("admin")
    assert body["password"] not in str(entry.detail)


@pytest.mark.parametrize(
    "payload,status,code",
    [
        ({"email": "not-an-address", "name": "x"}, 422, "validation_error"),
        ({"email": "a@example.com", "name": ""}, 422, "validation_error"),
        ({"email": "a@example.com", "name": "x", "password": "short"}, 422, "validation_error"),
        ({"email": "a@example.com", "name": "x", "role": "operator"}, 422, "site_required"),
        ({"email": "maker@example.com", "name": "x"}, 409, "email_taken"),
        ({"email": "a@example.com", "name": "x", "extra": 1}, 422, "validation_error"),
    ],
)
def test_bad_accounts_are_refused(client, world, payload, status, code):
    answer = client.post("/api/v1/accounts", headers=world.headers("admin"), json=payload)
    refused(answer, status, code)


def test_operator_manages_makers_only(client, world):
    listed = client.get("/api/v1/accounts", headers=world.headers("operator"))
    assert {a["email"] for a in listed.json} == {"maker@example.com", "other@example.com"}
    made = client.post(
        "/api/v1/accounts",
        headers=world.headers("operator"),
        json={"email": "maker3@example.com", "name": "three", "password": PASSWORD},
    )
    assert made.status_code == 201 and made.json["password"] is None
    staff = client.post(
        "/api/v1/accounts",
        headers=world.headers("operator"),
        json={"email": "boss@example.com", "name": "boss", "role": "admin"},
    )
    refused(staff, 403, "forbidden")
    promote = client.patch(
        f"/api/v1/accounts/{world.id('maker')}",
        headers=world.headers("operator"),
        json={"role": "admin"},
    )
    refused(promote, 403, "forbidden")
    other_staff = client.patch(
        f"/api/v1/accounts/{world.id('mullae_operator')}",
        headers=world.headers("operator"),
        json={"name": "renamed"},
    )
    refused(other_staff, 403, "forbidden")


def test_makers_administer_nothing(client, world):
    for path in ("/api/v1/accounts", "/api/v1/devices", "/api/v1/trainings"):
        refused(client.get(path, headers=world.headers("maker")), 403, "forbidden")


def test_deactivating_an_account_closes_tokens_page_logins_and_the_calendar(
    client, app, world, session
):
    from tests.pages import login

    page = app.test_client()
    login(page, email="maker@example.com")
    assert page.get("/me/settings").status_code == 200
    feed = f"/ical/{world.accounts['maker'].ical_secret}.ics"
    assert client.get(feed).status_code == 200

    answer = client.patch(
        f"/api/v1/accounts/{world.id('maker')}",
        headers=world.headers("admin"),
        json={"active": False},
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["active"] is False

    refused(client.get("/api/v1/reservations", headers=world.headers("maker")), 401, "unauthorized")
    assert page.get("/me/settings").status_code == 302
    assert client.get(feed).status_code == 404
    session.rollback()
    session.expire_all()
    tokens = session.exec(select(ApiToken).where(ApiToken.account_id == world.id("maker"))).all()
    assert tokens and all(t.revoked for t in tokens)
    assert len(audited(session, "account.deactivated")) == 1
    # Active again, the person logs in anew; the old tokens stay revoked.
    client.patch(
        f"/api/v1/accounts/{world.id('maker')}",
        headers=world.headers("admin"),
        json={"active": True},
    )
    refused(client.get("/api/v1/reservations", headers=world.headers("maker")), 401, "unauthorized")
    assert login(page, email="maker@example.com").status_code == 302


def test_admins_cannot_lock_themselves_out(client, world):
    answer = client.patch(
        f"/api/v1/accounts/{world.id('admin')}",
        headers=world.headers("admin"),
        json={"active": False},
    )
    refused(answer, 409, "own_account")


def test_password_reset_ends_old_logins_and_the_new_password_works(client, world, session):
    answer = client.post(
        f"/api/v1/accounts/{world.id('maker')}/password",
        headers=world.headers("operator"),
        json={},
    )
    assert answer.status_code == 200
    password = answer.json["password"]
    refused(client.get("/api/v1/reservations", headers=world.headers("maker")), 401, "unauthorized")
    old = client.post(
        "/api/v1/auth/token", json={"email": "maker@example.com", "password": PASSWORD}
    )
    assert old.status_code == 401
    new = client.post(
        "/api/v1/auth/token", json={"email": "maker@example.com", "password": password}
    )
    assert new.status_code == 201
    chosen = client.post(
        f"/api/v1/accounts/{world.id('maker')}/password",
        headers=world.headers("admin"),
        json={"password": "short"},
    )
    refused(chosen, 422, "validation_error")
    [entry] = audited(session, "account.password_reset")
    assert password not in str(entry.detail)


def test_revoking_tokens_logs_the_person_out_everywhere(client, world, session):
    answer = client.post(
        f"/api/v1/accounts/{world.id('other')}/revoke-tokens", headers=world.headers("admin")
    )
    assert answer.status_code == 200 and answer.json == {"revoked": 1}
    refused(client.get("/api/v1/reservations", headers=world.headers("other")), 401, "unauthorized")
    assert len(audited(session, "account.tokens_revoked")) == 1


def test_changing_an_operators_site(client, world):
    answer = client.patch(
        f"/api/v1/accounts/{world.id('operator')}",
        headers=world.headers("admin"),
        json={"role": "operator", "site_id": world.sites["mullae"].id},
    )
    assert answer.status_code == 200
    assert answer.json["site_id"] == world.sites["mullae"].id
    status = client.get("/api/v1/status?site=seongsu", headers=world.headers("operator"))
    assert status.status_code == 403


# -- resources ---------------------------------------------------------------------------


def test_admin_creates_and_edits_a_resource(client, world, session):
    made = client.post(
        "/api/v1/resources",
        headers=world.headers("admin"),
        json={**NEW_RESOURCE, "site_id": world.sites["seongsu"].id},
    )
    assert made.status_code == 201, made.json
    assert made.json["rate_per_hour"] == 9000
    edited = client.patch(
        f"/api/v1/resources/{made.json['id']}",
        headers=world.headers("admin"),
        json={"rate_per_hour": 12000, "requires_training": True},
    )
    assert edited.status_code == 200
    assert edited.json["rate_per_hour"] == 12000 and edited.json["requires_training"] is True
    assert edited.json["name"] == "UV 프린터"
    [entry] = audited(session, "resource.updated")
    assert entry.detail["changed"]["rate_per_hour"] == [9000, 12000]
    catalogue = client.get(f"/api/v1/resources/{made.json['id']}", headers=world.headers("maker"))
    assert catalogue.json["rate_per_hour"] == 12000


@pytest.mark.parametrize(
    "payload,status,code",
    [
        ({"slot_minutes": 2}, 422, "validation_error"),
        ({"min_minutes": 300, "max_minutes": 60}, 422, "validation_error"),
        ({"min_minutes": 300}, 422, "min_over_max"),
        ({"rate_per_hour": -1}, 422, "validation_error"),
        ({"capacity": 0}, 422, "validation_error"),
        ({"slug": "x"}, 422, "validation_error"),
    ],
)
def test_bad_resource_changes_are_refused(client, world, payload, status, code):
    answer = client.patch(
        f"/api/v1/resources/{world.id('laser')}", headers=world.headers("admin"), json=payload
    )
    refused(answer, status, code)


def test_a_slug_is_unique_within_its_site(client, world):
    answer = client.post(
        "/api/v1/resources",
        headers=world.headers("admin"),
        json={**NEW_RESOURCE, "slug": "laser-1", "site_id": world.sites["seongsu"].id},
    )
    refused(answer, 409, "slug_taken")


def test_operators_change_only_their_sites_resources(client, world, session):
    own = client.patch(
        f"/api/v1/resources/{world.id('laser')}",
        headers=world.headers("operator"),
        json={"active": False},
    )
    assert own.status_code == 200 and own.json["active"] is False
    other = client.patch(
        f"/api/v1/resources/{world.id('lathe')}",
        headers=world.headers("operator"),
        json={"rate_per_hour": 1},
    )
    refused(other, 403, "forbidden")
    elsewhere = client.post(
        "/api/v1/resources",
        headers=world.headers("operator"),
        json={**NEW_RESOURCE, "site_id": world.sites["mullae"].id},
    )
    refused(elsewhere, 403, "forbidden")
    maker = client.patch(
        f"/api/v1/resources/{world.id('laser')}", headers=world.headers("maker"), json={}
    )
    refused(maker, 403, "forbidden")
    session.rollback()
    session.expire_all()
    assert session.get(Resource, world.id("lathe")).rate_per_hour == 0


# -- sites -------------------------------------------------------------------------------


def test_admin_creates_a_site_with_hours_and_a_holiday(client, world, session):
    made = client.post(
        "/api/v1/sites",
        headers=world.headers("admin"),
        json={
            "slug": "bongik",
            "name": "봉익 주얼리",
            "name_en": "Bongik jewelry",
            "timezone": "Asia/Seoul",
            "hours": [{"weekday": d, "opens": "10:00", "closes": "19:00"} for d in range(5)],
        },
    )
    assert made.status_code == 201, made.json
    site_id = made.json["id"]
    hours = session.exec(select(OpeningHours).where(OpeningHours.site_id == site_id)).all()
    assert len(hours) == 5
    holiday = client.post(
        f"/api/v1/sites/{site_id}/holidays",
        headers=world.headers("admin"),
        json={
            "start": "2026-03-01T00:00:00+09:00",
            "end": "2026-03-02T00:00:00+09:00",
            "reason": "삼일절",
        },
    )
    assert holiday.status_code == 201, holiday.json
    gone = client.delete(
        f"/api/v1/sites/{site_id}/holidays/{holiday.json['id']}", headers=world.headers("admin")
    )
    assert gone.status_code == 204
    session.rollback()
    session.expire_all()
    assert session.exec(select(Blackout).where(Blackout.site_id == site_id)).all() == []
    assert len(audited(session, "site.holiday_removed")) == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"timezone": "Mars/Olympus"},
        {"timezone": "../../etc/passwd"},
        {"hours": [{"weekday": 7, "opens": "10:00", "closes": "19:00"}]},
        {"hours": [{"weekday": 1, "opens": "19:00", "closes": "10:00"}]},
        {"machine_quota_hours": -1},
        {
            "hours": [
                {"weekday": 1, "opens": "09:00", "closes": "13:00"},
                {"weekday": 1, "opens": "12:00", "closes": "18:00"},
            ]
        },
    ],
)
def test_bad_site_changes_are_422(client, world, payload):
    answer = client.patch(
        f"/api/v1/sites/{world.sites['seongsu'].id}", headers=world.headers("admin"), json=payload
    )
    refused(answer, 422, "validation_error")


def test_only_admins_change_sites(client, world):
    answer = client.patch(
        f"/api/v1/sites/{world.sites['seongsu'].id}",
        headers=world.headers("operator"),
        json={"name": "mine now"},
    )
    refused(answer, 403, "forbidden")


# -- devices and trainings ---------------------------------------------------------------


def test_devices_bind_to_resources_of_their_own_site(client, world, session):
    made = client.post(
        "/api/v1/devices",
        headers=world.headers("operator"),
        json={
            "site_id": world.sites["seongsu"].id,
            "slug": "laser-ctl",
            "resource_id": world.id("laser"),
        },
    )
    assert made.status_code == 201, made.json
    assert made.json["username"] == "seongsu.laser-ctl" and made.json["password"]
    wrong = client.patch(
        f"/api/v1/devices/{made.json['id']}",
        headers=world.headers("operator"),
        json={"resource_id": world.id("lathe")},
    )
    refused(wrong, 422, "resource_elsewhere")
    unbound = client.patch(
        f"/api/v1/devices/{made.json['id']}", headers=world.headers("operator"), json={}
    )
    assert unbound.json["resource_id"] is None
    listed = client.get("/api/v1/devices", headers=world.headers("mullae_operator"))
    assert listed.json == []
    [entry] = audited(session, "device.created")
    device = session.get(Device, made.json["id"])
    assert verify_password(made.json["password"], device.password_hash)
    assert made.json["password"] not in str(entry.detail) + device.password_hash


def test_operators_see_the_makers_trainings_for_their_sites_machines(client, world, session):
    from tests.factories import make_training

    make_training(session, world.accounts["mullae_operator"], "laser_cutter")
    make_training(session, world.accounts["other"], "lathe")
    session.commit()
    mine = client.get("/api/v1/trainings", headers=world.headers("operator")).json
    assert {(t["account_id"], t["category"]) for t in mine} == {(world.id("maker"), "laser_cutter")}
    everyone = client.get("/api/v1/trainings", headers=world.headers("admin")).json
    assert len(everyone) == 3


def test_trainings_are_granted_extended_and_revoked(client, world, session):
    granted = client.post(
        "/api/v1/trainings",
        headers=world.headers("operator"),
        json={
            "account_id": world.id("other"),
            "category": "cnc_router",
            "expires_on": "2026-06-30",
        },
    )
    assert granted.status_code == 201, granted.json
    training_id = granted.json["id"]
    extended = client.patch(
        f"/api/v1/trainings/{training_id}",
        headers=world.headers("operator"),
        json={"expires_on": "2027-06-30"},
    )
    assert extended.json["expires_on"] == "2027-06-30"
    elsewhere = client.post(
        "/api/v1/trainings",
        headers=world.headers("operator"),
        json={"account_id": world.id("other"), "category": "lathe"},
    )
    refused(elsewhere, 403, "forbidden")
    gone = client.delete(f"/api/v1/trainings/{training_id}", headers=world.headers("operator"))
    assert gone.status_code == 204
    session.rollback()
    session.expire_all()
    assert session.get(Training, training_id) is None
    actions = [e.action for e in session.exec(select(AuditLog).order_by(AuditLog.id))]
    assert actions[-3:] == ["training.granted", "training.extended", "training.revoked"]


def test_admin_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/accounts"])
    assert "patch" in paths["/api/v1/resources/{resource_id}"]
    assert "get" in paths["/api/v1/resources/{resource_id}"]
    for path in ("/api/v1/devices", "/api/v1/trainings", "/api/v1/sites/{site_id}/holidays"):
        assert path in paths
