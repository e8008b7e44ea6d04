"""Who pays: an admin puts a person in a company and has their usage billed to it."""

from __future__ import annotations

import pytest
from sqlmodel import select

from service.models import Account, AuditLog, Company
from tests.pages import csrf_token, login


@pytest.fixture
def company(session) -> Company:
    firm = Company(name="한결수제화", business_number="206-12-34567", representative="김한결")
    session.add(firm)
    session.commit()
    return firm


def _patch(client, world, actor: str, body: dict):
    return client.patch(
        f"/api/v1/accounts/{world.id('maker')}", headers=world.headers(actor), json=body
    )


def test_an_admin_makes_a_person_bill_to_their_company(client, session, world, company):
    answer = _patch(client, world, "admin", {"company_id": company.id, "bills_to_company": True})
    assert answer.status_code == 200, answer.json
    assert (answer.json["company_id"], answer.json["bills_to_company"]) == (company.id, True)
    session.expire_all()
    maker = session.get(Account, world.id("maker"))
    assert (maker.company_id, maker.bills_to_company) == (company.id, True)
    audited = session.exec(
        select(AuditLog).where(AuditLog.action == "account.updated").order_by(AuditLog.id)
    ).all()
    assert audited[-1].detail["company_id"] == company.id


def test_leaving_the_company_needs_billing_to_it_stopped_first(client, world, company):
    _patch(client, world, "admin", {"company_id": company.id, "bills_to_company": True})
    refused = _patch(client, world, "admin", {"company_id": None})
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "no_company"
    left = _patch(client, world, "admin", {"company_id": None, "bills_to_company": False})
    assert left.status_code == 200
    assert (left.json["company_id"], left.json["bills_to_company"]) == (None, False)


def test_billing_to_no_company_or_an_unknown_one_is_refused(client, world, company):
    alone = _patch(client, world, "admin", {"bills_to_company": True})
    assert (alone.status_code, alone.json["error"]["code"]) == (422, "no_company")
    unknown = _patch(client, world, "admin", {"company_id": company.id + 1000})
    assert (unknown.status_code, unknown.json["error"]["code"]) == (422, "unknown_company")


@pytest.mark.parametrize("actor", ["operator", "maker"])
def test_only_admins_change_who_pays(client, session, world, company, actor):
    answer = _patch(client, world, actor, {"company_id": company.id})
    assert answer.status_code == 403
    session.expire_all()
    assert session.get(Account, world.id("maker")).company_id is None


@pytest.mark.sqlite_only
def test_the_admin_account_page_sets_company_and_billing(client, session, world, company):
    login(client, "admin@example.com")
    path = f"/admin/accounts/{world.id('maker')}"
    page = client.get(path).get_data(as_text=True)
    assert "한결수제화" in page and 'name="bills_to_company"' in page
    form = {
        "csrf_token": csrf_token(client, path),
        "name": "maker",
        "role": "maker",
        "card_uid": "",
        "active": "on",
        "company_id": str(company.id),
        "bills_to_company": "on",
    }
    assert client.post(path, data=form).status_code == 302
    session.expire_all()
    maker = session.get(Account, world.id("maker"))
    assert (maker.company_id, maker.bills_to_company) == (company.id, True)


@pytest.mark.sqlite_only
def test_an_operators_account_page_leaves_who_pays_alone(client, session, world, company):
    maker = session.get(Account, world.id("maker"))
    maker.company_id, maker.bills_to_company = company.id, True
    session.add(maker)
    session.commit()
    login(client, "operator@example.com")
    path = f"/admin/accounts/{world.id('maker')}"
    assert 'name="bills_to_company"' not in client.get(path).get_data(as_text=True)
    form = {"csrf_token": csrf_token(client, path), "name": "renamed", "role": "maker"}
    form |= {"card_uid": "", "active": "on"}
    assert client.post(path, data=form).status_code == 302
    session.expire_all()
    kept = session.get(Account, world.id("maker"))
    assert (kept.name, kept.company_id, kept.bills_to_company) == ("renamed", company.id, True)
