"""The admin pages: forms read by the API's shapes, errors beside their fields, PRG, scoping."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from service.models import ApiToken, AuditLog, Blackout, Device, OpeningHours, Resource
from tests.pages import csrf_token, login

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _text(answer) -> str:
    return answer.get_data(as_text=True)


def _resource_form(resource: Resource, **changes) -> dict[str, str]:
    form = {
        name: str(getattr(resource, name))
        for name in (
            "name",
            "name_en",
            "category",
            "slot_minutes",
            "min_minutes",
            "max_minutes",
            "buffer_minutes",
            "lead_minutes",
            "max_days_ahead",
            "capacity",
            "rate_per_hour",
        )
    }
    for flag in ("requires_training", "requires_approval", "walk_in_allowed", "active"):
        if getattr(resource, flag):
            form[flag] = "on"
    form.update(changes)
    return form


def _in_english(client):
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    return client


@pytest.fixture
def admin(client, world):
    login(client, email="admin@example.com")
    return _in_english(client)


@pytest.fixture
def operator(client, world):
    login(client, email="operator@example.com")
    return _in_english(client)


def test_admin_edits_a_resources_rate_and_the_list_shows_it(admin, world, session):
    path = f"/admin/resources/{world.id('laser')}"
    page = admin.get(path)
    assert page.status_code == 200
    assert 'name="rate_per_hour"' in _text(page)
    laser = session.get(Resource, world.id("laser"))
    answer = admin.post(
        path,
        data={
            **_resource_form(laser, rate_per_hour="30000"),
            "csrf_token": csrf_token(admin, path),
        },
    )
    assert answer.status_code == 302
    listed = _text(admin.get(answer.headers["Location"]))
    assert "₩30,000" in listed
    session.rollback()
    session.expire_all()
    assert session.get(Resource, world.id("laser")).rate_per_hour == 30000
    assert session.exec(select(AuditLog).where(AuditLog.action == "resource.updated")).first()


def test_a_bad_value_is_shown_beside_its_field_and_nothing_changes(admin, world, session):
    path = f"/admin/resources/{world.id('laser')}"
    laser = session.get(Resource, world.id("laser"))
    answer = admin.post(
        path,
        data={
            **_resource_form(laser, rate_per_hour="-5", slot_minutes="lots"),
            "csrf_token": csrf_token(admin, path),
        },
    )
    assert answer.status_code == 422
    page = _text(answer)
    assert 'id="f-rate_per_hour-error"' in page and "too small" in page
    assert 'id="f-slot_minutes-error"' in page and "whole number" in page
    assert 'value="lots"' in page
    session.rollback()
    session.expire_all()
    assert session.get(Resource, world.id("laser")).rate_per_hour == 22000


def test_a_rule_refusal_is_shown_above_the_form(admin, world, session):
    path = f"/admin/resources/{world.id('laser')}"
    laser = session.get(Resource, world.id("laser"))
    answer = admin.post(
        path,
        data={**_resource_form(laser, min_minutes="300"), "csrf_token": csrf_token(admin, path)},
    )
    assert answer.status_code == 422
    assert "cannot be longer than the longest" in _text(answer)


def test_a_new_resource_through_the_form(admin, world, session):
    form = {
        "site_id": str(world.sites["mullae"].id),
        "kind": "machine",
        "slug": "cnc-9",
        "name": "CNC 9",
        "name_en": "",
        "category": "cnc_router",
        "slot_minutes": "30",
        "min_minutes": "30",
        "max_minutes": "120",
        "buffer_minutes": "0",
        "lead_minutes": "0",
        "max_days_ahead": "30",
        "capacity": "1",
        "rate_per_hour": "15000",
        "active": "on",
    }
    answer = admin.post(
        "/admin/resources/new",
        data={**form, "csrf_token": csrf_token(admin, "/admin/resources/new")},
    )
    assert answer.status_code == 302, _text(answer)
    again = admin.post(
        "/admin/resources/new",
        data={**form, "csrf_token": csrf_token(admin, "/admin/resources/new")},
    )
    assert again.status_code == 422
    assert "already used" in _text(again)


def test_operator_sees_only_their_sites_resources_and_no_sites_page(operator, world):
    listed = _text(operator.get("/admin/resources"))
    assert "laser-1" in listed and "lathe-1" not in listed
    assert operator.get(f"/admin/resources/{world.id('lathe')}").status_code == 403
    assert operator.get("/admin/sites").status_code == 403


def test_admin_deactivates_an_account_and_its_page_login_ends(app, admin, world, session):
    maker = app.test_client()
    login(maker, email="maker@example.com")
    assert maker.get("/me/settings").status_code == 200
    path = f"/admin/accounts/{world.id('maker')}"
    assert "maker@example.com" in _text(admin.get(path))
    answer = admin.post(
        path,
        data={
            "name": "maker",
            "role": "maker",
            "card_uid": "",
            "csrf_token": csrf_token(admin, path),
        },
    )
    assert answer.status_code == 302
    assert "Deactivated" in _text(admin.get(path))
    assert maker.get("/me/settings").status_code == 302
    session.rollback()
    session.expire_all()
    assert all(
        t.revoked
        for t in session.exec(select(ApiToken).where(ApiToken.account_id == world.id("maker")))
    )


def test_a_new_account_gets_a_password_shown_once(admin, world):
    answer = admin.post(
        "/admin/accounts/new",
        data={
            "email": "new@example.com",
            "name": "New person",
            "role": "maker",
            "password": "",
            "card_uid": "",
            "csrf_token": csrf_token(admin, "/admin/accounts/new"),
        },
    )
    assert answer.status_code == 302
    page = _text(admin.get(answer.headers["Location"]))
    found = re.search(r"shown only this once: (\S+)</p>", page)
    assert found
    assert found.group(1) not in _text(admin.get(answer.headers["Location"]))


def test_account_form_errors_show_beside_their_fields(admin, world):
    answer = admin.post(
        "/admin/accounts/new",
        data={
            "email": "nope",
            "name": "",
            "role": "maker",
            "password": "short",
            "card_uid": "",
            "csrf_token": csrf_token(admin, "/admin/accounts/new"),
        },
    )
    assert answer.status_code == 422
    page = _text(answer)
    for field in ("email", "name", "password"):
        assert f'id="f-{field}-error"' in page


def test_password_reset_and_ending_logins_from_the_page(app, admin, world, session):
    maker = app.test_client()
    login(maker, email="other@example.com")
    path = f"/admin/accounts/{world.id('other')}"
    answer = admin.post(f"{path}/revoke-tokens", data={"csrf_token": csrf_token(admin, path)})
    assert answer.status_code == 302
    assert maker.get("/me/settings").status_code == 302
    reset = admin.post(
        f"{path}/password",
        data={"password": "a new long password", "csrf_token": csrf_token(admin, path)},
    )
    assert reset.status_code == 302
    assert (
        login(maker, email="other@example.com", password="a new long password").status_code == 302
    )


def test_operator_offers_only_the_maker_role_and_cannot_open_staff(operator, world):
    page = _text(operator.get("/admin/accounts/new"))
    assert 'value="maker"' in page and 'value="admin"' not in page
    assert operator.get(f"/admin/accounts/{world.id('admin')}").status_code == 403
    listed = _text(operator.get("/admin/accounts"))
    assert "maker@example.com" in listed and "admin@example.com" not in listed


def test_admin_sets_a_sites_hours_and_a_holiday(admin, world, session):
    site_id = world.sites["mullae"].id
    path = f"/admin/sites/{site_id}"
    form = {
        "name": "문래",
        "name_en": "Mullae",
        "timezone": "Asia/Seoul",
        "address": "",
        "machine_quota_hours": "0",
        "room_quota_hours": "0",
        "opens_0": "10:00",
        "closes_0": "18:00",
        "opens_5": "10:00",
        "closes_5": "14:00",
        "csrf_token": csrf_token(admin, path),
    }
    assert admin.post(path, data=form).status_code == 302
    bad = admin.post(path, data={**form, "closes_5": "09:00", "timezone": "Seoul"})
    assert bad.status_code == 422
    assert 'id="f-closes_5-error"' in _text(bad) and 'id="f-timezone-error"' in _text(bad)
    holiday = admin.post(
        f"{path}/holidays",
        data={
            "start": "2026-05-05",
            "end": "2026-05-05",
            "reason": "어린이날",
            "csrf_token": csrf_token(admin, path),
        },
    )
    assert holiday.status_code == 302
    session.rollback()
    session.expire_all()
    hours = session.exec(select(OpeningHours).where(OpeningHours.site_id == site_id)).all()
    assert sorted(h.weekday for h in hours) == [0, 5]
    [closed] = session.exec(select(Blackout).where(Blackout.site_id == site_id)).all()
    assert (closed.end_at - closed.start_at).days == 1
    assert "어린이날" in _text(admin.get(path))


def test_devices_and_trainings_pages(operator, world, session):
    made = operator.post(
        "/admin/devices/new",
        data={
            "site_id": str(world.sites["seongsu"].id),
            "slug": "cnc-ctl",
            "resource_id": str(world.id("cnc")),
            "csrf_token": csrf_token(operator, "/admin/devices"),
        },
    )
    assert made.status_code == 302
    listed = _text(operator.get("/admin/devices"))
    assert "cnc-ctl" in listed and "seongsu.cnc-ctl" in listed
    session.rollback()
    session.expire_all()
    device = session.exec(select(Device).where(Device.slug == "cnc-ctl")).one()
    wrong = operator.post(
        f"/admin/devices/{device.id}",
        data={
            "resource_id": str(world.id("lathe")),
            "csrf_token": csrf_token(operator, "/admin/devices"),
        },
    )
    assert wrong.status_code in (403, 422)
    page = f"/admin/devices/{device.id}"
    rotated = operator.post(
        f"{page}/rotate", data={"csrf_token": csrf_token(operator, page)}, follow_redirects=True
    )
    shown = _text(rotated)
    password = re.search(r"shown only this once, (\S+)\.", shown)
    assert password and "Issued" in shown
    assert password[1] not in _text(operator.get(page))  # shown once
    revoked = operator.post(
        f"{page}/revoke", data={"csrf_token": csrf_token(operator, page)}, follow_redirects=True
    )
    assert "Revoked" in _text(revoked) and "Revoke</button>" not in revoked.get_data(as_text=True)
    granted = operator.post(
        "/admin/trainings",
        data={
            "account_id": str(world.id("other")),
            "category": "cnc_router",
            "expires_on": "2026-12-31",
            "csrf_token": csrf_token(operator, "/admin/trainings"),
        },
    )
    assert granted.status_code == 302
    page = _text(operator.get("/admin/trainings"))
    assert "cnc_router" in page and "2026-12-31" in page


@pytest.mark.parametrize(
    "path",
    ["/admin/accounts", "/admin/resources", "/admin/devices", "/admin/trainings", "/admin/sites"],
)
def test_admin_pages_speak_korean(admin, world, path):
    admin.post("/language", data={"locale": "ko", "csrf_token": csrf_token(admin, path)})
    page = _text(admin.get(path))
    assert 'lang="ko"' in page


def test_a_form_without_its_csrf_token_is_refused(admin, world):
    answer = admin.post(f"/admin/accounts/{world.id('maker')}/revoke-tokens")
    assert answer.status_code == 400


def test_an_empty_choice_reads_as_missing(operator, world):
    answer = operator.post(
        "/admin/trainings",
        data={
            "account_id": "",
            "category": "",
            "expires_on": "",
            "csrf_token": csrf_token(operator, "/admin/trainings"),
        },
    )
    assert answer.status_code == 422
    page = _text(answer)
    assert 'id="f-account_id-error"' in page and 'id="f-category-error"' in page
    assert "Fill in this field." in page


def test_a_day_with_a_lunch_break_keeps_both_intervals(admin, world, session):
    site_id = world.sites["mullae"].id
    path = f"/admin/sites/{site_id}"
    form = {
        "name": "문래",
        "name_en": "",
        "timezone": "Asia/Seoul",
        "address": "",
        "machine_quota_hours": "0",
        "room_quota_hours": "0",
        "opens_2": "09:00",
        "closes_2": "12:00",
        "opens_2_2": "13:00",
        "closes_2_2": "18:00",
        "csrf_token": csrf_token(admin, path),
    }
    assert admin.post(path, data=form).status_code == 302
    page = _text(admin.get(path))
    assert 'id="f-opens_2_2" name="opens_2_2" type="time" value="13:00"' in page
    overlap = admin.post(path, data={**form, "opens_2_2": "11:00"})
    assert overlap.status_code == 422
    assert "overlap" in _text(overlap)
    session.rollback()
    session.expire_all()
    hours = session.exec(select(OpeningHours).where(OpeningHours.site_id == site_id)).all()
    assert sorted((h.weekday, h.opens.hour) for h in hours) == [(2, 9), (2, 13)]
