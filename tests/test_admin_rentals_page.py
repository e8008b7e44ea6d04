"""The admin page of rental contracts: let a room, set its last day, remove a contract."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from service.models import RentalContract
from tests.pages import csrf_token, login
from tests.rental import company, contract

pytestmark = pytest.mark.sqlite_only

PAGE = "/admin/rentals"


def _text(answer) -> str:
    return re.sub(r"\s+", " ", answer.get_data(as_text=True))


def _let(client, world, **fields):
    return client.post(
        PAGE,
        data={
            "resource_id": str(world.id("room")),
            "start_date": "2026-04-11",
            "end_date": "",
            "monthly_fee": "900000",
            "csrf_token": csrf_token(client, PAGE),
            **fields,
        },
    )


def test_an_admin_lets_a_room_to_a_company_from_the_page(client, world, session):
    firm = company(session)
    login(client, email="admin@example.com")
    answer = _let(client, world, company_id=str(firm.id), account_id="")
    assert answer.status_code == 302
    page = _text(client.get(PAGE))
    assert "성수가죽공방" in page and "2026-04-11" in page and "900,000원" in page
    (made,) = session.exec(select(RentalContract)).all()
    assert (made.company_id, made.account_id, made.end_date) == (firm.id, None, None)


def test_the_page_says_why_a_contract_is_refused(client, world, session):
    contract(session, world, "2026-04-01", None, who="other")
    login(client, email="admin@example.com")
    answer = _let(client, world, account_id=str(world.id("maker")), company_id="")
    assert answer.status_code == 422
    assert "이미 임대" in _text(answer)


def test_an_admin_sets_the_last_day_and_removes_a_contract(client, world, session):
    made = contract(session, world, "2026-04-01", None, who="maker")
    login(client, email="admin@example.com")
    one = f"{PAGE}/{made.id}"
    token = csrf_token(client, PAGE)
    ended = client.post(one, data={"end_date": "2026-06-30", "csrf_token": token})
    assert ended.status_code == 302 and "2026-06-30" in _text(client.get(PAGE))
    removed = client.post(f"{one}/delete", data={"csrf_token": csrf_token(client, PAGE)})
    assert removed.status_code == 302
    assert session.exec(select(RentalContract)).all() == []


def test_an_operator_may_not_open_the_rental_contracts(client, world):
    login(client, email="operator@example.com")
    assert client.get(PAGE).status_code == 403
