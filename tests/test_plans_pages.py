"""The prices page: staff read the plans and memberships; admins change them by plain forms."""

from __future__ import annotations

import pytest
from sqlmodel import select

from service.models import AccountMembership, MembershipPlan, RatePlan, RatePlanPrice
from tests.billing import issue
from tests.factories import make_run
from tests.pages import csrf_token, login

pytestmark = pytest.mark.sqlite_only


def _post(client, path, data):
    """A form sent as the page's browser would, with its CSRF token."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/admin/plans")})


def test_an_admin_adds_a_plan_and_a_new_price_and_is_sent_back_to_the_list(client, session, world):
    login(client, "admin@example.com")
    made = _post(
        client,
        "/admin/plans/rate-plans",
        {
            "name": "Laser",
            "basis": "run_time",
            "charge_unit": "reservation",
            "price_per_hour": "22000",
            "monthly_price": "0",
            "no_show_percent": "50",
            "min_minutes": "10",
        },
    )
    assert made.status_code == 302 and made.headers["Location"].endswith("/admin/plans#rate-plan")
    plan = session.exec(select(RatePlan).where(RatePlan.name == "Laser")).one()
    changed = _post(
        client,
        "/admin/plans/rate-prices",
        {
            "plan_id": str(plan.id),
            "valid_from": "2026-04-01",
            "price_per_hour": "25000",
            "monthly_price": "0",
            "no_show_percent": "50",
            "min_minutes": "10",
        },
    )
    assert changed.status_code == 302
    session.rollback()  # read what the request committed
    (version,) = session.exec(select(RatePlanPrice)).all()
    assert (version.valid_from.isoformat(), version.price_per_hour) == ("2026-04-01", 25_000)
    page = client.get("/admin/plans").get_data(as_text=True)
    assert "2026-04-01" in page and "Laser" in page


def test_a_price_in_an_invoiced_month_is_shown_refused_beside_the_form(
    client, session, world, terms, priced
):
    plan = RatePlan(name="Room", basis="booked_time")
    session.add(plan)
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    session.commit()
    issue(session, terms)
    login(client, "admin@example.com")
    refused = _post(
        client,
        "/admin/plans/rate-prices",
        {
            "plan_id": str(plan.id),
            "valid_from": "2026-02-15",
            "price_per_hour": "1000",
            "monthly_price": "0",
            "no_show_percent": "50",
            "min_minutes": "0",
        },
    )
    assert refused.status_code == 422
    assert "이미 청구서가 발행된 달" in refused.get_data(as_text=True)
    assert session.exec(select(RatePlanPrice)).all() == []


def test_an_admin_gives_and_ends_a_membership(client, session, world):
    club = MembershipPlan(name="Club", monthly_fee=50_000, discount_percent=10)
    session.add(club)
    session.commit()
    login(client, "admin@example.com")
    given = _post(
        client,
        "/admin/plans/memberships",
        {
            "account_id": str(world.id("maker")),
            "membership_plan_id": str(club.id),
            "valid_from": "2026-11-15",
            "valid_to": "",
        },
    )
    assert given.status_code == 302
    session.rollback()
    held = session.exec(select(AccountMembership)).one()
    assert (held.valid_from.isoformat(), held.valid_to) == ("2026-11-15", None)
    ended = _post(
        client,
        f"/admin/plans/memberships/{world.id('maker')}/{held.id}/end",
        {"valid_to": "2027-01-01"},
    )
    assert ended.status_code == 302
    session.rollback()
    assert held.valid_to.isoformat() == "2027-01-01"


def test_an_operator_reads_the_page_without_forms_and_cannot_post(client, world):
    login(client, "operator@example.com")
    page = client.get("/admin/plans")
    assert page.status_code == 200
    assert 'action="/admin/plans/rate-prices"' not in page.get_data(as_text=True)
    refused = _post(client, "/admin/plans/membership-plans", data={"name": "x", "monthly_fee": "0"})
    assert refused.status_code == 403


def test_the_page_speaks_korean_by_default(client, world):
    login(client, "admin@example.com")
    page = client.get("/admin/plans").get_data(as_text=True)
    assert "가격과 멤버십" in page and "새 요금제" in page
