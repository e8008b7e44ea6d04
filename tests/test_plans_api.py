"""The prices API: plans with dated prices, memberships of an account, all audited."""

from __future__ import annotations

from sqlmodel import select

from service.models import AuditLog
from tests.billing import issue
from tests.factories import make_run


def _post(client, world, path, body, who="admin"):
    return client.post(path, headers=world.headers(who), json=body)


def test_a_new_price_closes_the_old_one_and_both_stay_listed(client, world):
    made = _post(
        client,
        world,
        "/api/v1/rate-plans",
        {"name": "Laser", "basis": "run_time", "price_per_hour": 22_000, "min_minutes": 10},
    )
    assert made.status_code == 201, made.json
    plan = made.json["id"]
    changed = _post(
        client,
        world,
        f"/api/v1/rate-plans/{plan}/prices",
        {"valid_from": "2026-04-01", "price_per_hour": 25_000, "min_minutes": 10},
    )
    assert changed.status_code == 201, changed.json
    again = _post(
        client,
        world,
        f"/api/v1/rate-plans/{plan}/prices",
        {"valid_from": "2026-05-01", "price_per_hour": 27_000},
    )
    assert again.status_code == 201
    (listed,) = client.get("/api/v1/rate-plans", headers=world.headers("operator")).json
    assert [(p["valid_from"], p["valid_to"], p["price_per_hour"]) for p in listed["prices"]] == [
        (None, "2026-04-01", 22_000),
        ("2026-04-01", "2026-05-01", 25_000),
        ("2026-05-01", None, 27_000),
    ]
    assert listed["charge_unit"] == "reservation"


def test_a_price_inside_an_invoiced_month_is_refused_with_the_error_format(
    client, session, world, terms, priced
):
    made = _post(client, world, "/api/v1/rate-plans", {"name": "Room", "basis": "booked_time"})
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    session.commit()
    issue(session, terms)  # February 2026
    refused = _post(
        client,
        world,
        f"/api/v1/rate-plans/{made.json['id']}/prices",
        {"valid_from": "2026-02-20", "price_per_hour": 1_000},
    )
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "billed_period"
    assert refused.json["error"]["details"] == {"billed_through": "2026-02"}
    later = _post(
        client,
        world,
        f"/api/v1/rate-plans/{made.json['id']}/prices",
        {"valid_from": "2026-03-01", "price_per_hour": 1_000},
    )
    assert later.status_code == 201


def test_a_price_before_the_latest_one_is_a_422(client, world):
    made = _post(client, world, "/api/v1/rate-plans", {"name": "Room", "basis": "booked_time"})
    path = f"/api/v1/rate-plans/{made.json['id']}/prices"
    assert _post(client, world, path, {"valid_from": "2026-06-01"}).status_code == 201
    late = _post(client, world, path, {"valid_from": "2026-05-01"})
    assert (late.status_code, late.json["error"]["code"]) == (422, "not_after_latest_price")


def test_a_second_plan_of_the_same_name_is_a_409(client, world):
    body = {"name": "Club", "monthly_fee": 10_000, "discount_percent": 10}
    assert _post(client, world, "/api/v1/membership-plans", body).status_code == 201
    again = _post(client, world, "/api/v1/membership-plans", body)
    assert (again.status_code, again.json["error"]["code"]) == (409, "name_taken")


def test_bad_prices_are_422(client, world):
    made = _post(
        client,
        world,
        "/api/v1/rate-plans",
        {"name": "x", "basis": "run_time", "price_per_hour": -1},
    )
    assert made.status_code == 422
    nameless = _post(client, world, "/api/v1/membership-plans", {"discount_percent": 101})
    assert nameless.status_code == 422


def test_memberships_are_given_listed_ended_and_audited(client, session, world):
    club = _post(
        client, world, "/api/v1/membership-plans", {"name": "Club", "monthly_fee": 50_000}
    ).json
    path = f"/api/v1/accounts/{world.id('maker')}/memberships"
    given = _post(
        client, world, path, {"membership_plan_id": club["id"], "valid_from": "2026-11-15"}
    )
    assert given.status_code == 201, given.json
    twice = _post(
        client, world, path, {"membership_plan_id": club["id"], "valid_from": "2026-12-01"}
    )
    assert (twice.status_code, twice.json["error"]["code"]) == (409, "membership_overlaps")
    ended = _post(client, world, f"{path}/{given.json['id']}/end", {"valid_to": "2027-01-01"})
    assert ended.status_code == 200, ended.json
    empty = _post(client, world, f"{path}/{given.json['id']}/end", {"valid_to": "2026-11-15"})
    assert (empty.status_code, empty.json["error"]["code"]) == (422, "empty_membership")
    listed = client.get(path, headers=world.headers("operator")).json
    assert [(m["plan_name"], m["valid_from"], m["valid_to"]) for m in listed] == [
        ("Club", "2026-11-15", "2027-01-01")
    ]
    actions = session.exec(select(AuditLog.action, AuditLog.actor_id).order_by(AuditLog.id)).all()
    assert [a for a in actions if a[0].startswith("membership")] == [
        ("membership_plan.create", world.id("admin")),
        ("membership.create", world.id("admin")),
        ("membership.end", world.id("admin")),
    ]


def test_an_unknown_plan_or_account_is_a_404(client, world):
    assert (
        _post(
            client, world, "/api/v1/rate-plans/999/prices", {"valid_from": "2026-06-01"}
        ).status_code
        == 404
    )
    assert (
        client.get("/api/v1/accounts/999/memberships", headers=world.headers("admin")).status_code
        == 404
    )


def test_the_listing_needs_a_token(client):
    assert client.get("/api/v1/rate-plans").status_code == 401
