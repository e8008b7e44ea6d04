"""Rental contracts over the API: admins let rooms; a let room is its tenant's alone."""

from __future__ import annotations

from sqlmodel import select

from service.models import AuditLog
from tests.factories import book, refused
from tests.rental import company, contract, join

MARCH = {"start_date": "2026-03-01", "end_date": "2026-03-31", "monthly_fee": 900_000}


def let(client, world, **body):
    return client.post(
        "/api/v1/rental-contracts",
        headers=world.headers("admin"),
        json={"resource_id": world.id("room"), **MARCH, **body},
    )


def test_an_admin_lets_a_room_reads_changes_and_removes_the_contract_all_audited(
    client, world, session
):
    made = let(client, world, account_id=world.id("maker"))
    assert made.status_code == 201, made.json
    one = f"/api/v1/rental-contracts/{made.json['id']}"
    admin = world.headers("admin")
    assert made.json["monthly_fee"] == 900_000 and made.json["company_id"] is None
    assert client.get(one, headers=admin).json["end_date"] == "2026-03-31"
    changed = client.patch(one, headers=admin, json={"end_date": None, "monthly_fee": 950_000})
    assert changed.status_code == 200
    assert (changed.json["end_date"], changed.json["monthly_fee"]) == (None, 950_000)
    listed = client.get(f"/api/v1/rental-contracts?resource={world.id('room')}", headers=admin)
    assert [c["id"] for c in listed.json] == [made.json["id"]]
    assert client.delete(one, headers=admin).status_code == 204
    assert client.get(one, headers=admin).status_code == 404
    actions = session.exec(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert [a for a in actions if a.startswith("rental_contract.")] == [
        "rental_contract.create",
        "rental_contract.update",
        "rental_contract.delete",
    ]


def test_a_contract_needs_exactly_one_tenant(client, world, session):
    firm = company(session)
    refused(let(client, world), 422, "one_tenant")
    refused(let(client, world, company_id=firm.id, account_id=world.id("maker")), 422, "one_tenant")


def test_only_a_room_is_let(client, world):
    answer = let(client, world, account_id=world.id("maker"), resource_id=world.id("laser"))
    refused(answer, 422, "not_a_room")


def test_a_room_has_one_contract_on_any_day(client, world, session):
    contract(session, world, "2026-03-20", None, who="other")
    refused(let(client, world, account_id=world.id("maker")), 409, "contract_overlap")


def test_a_room_booked_by_someone_else_in_the_contract_days_is_not_let(client, world):
    assert (
        book(client, world, "other", "room", "2026-03-03 10:00", "2026-03-03 11:00").status_code
        == 201
    )
    refused(let(client, world, account_id=world.id("maker")), 409, "room_booked")
    # The tenant's own booking does not stand in the way.
    assert let(client, world, account_id=world.id("other")).status_code == 201


def test_a_let_room_refuses_bookings_of_others_even_with_an_operators_override(
    client, world, session
):
    firm = company(session)
    contract(session, world, "2026-03-01", "2026-03-03", firm=firm)
    error = refused(
        book(client, world, "maker", "room", "2026-03-03 10:00", "2026-03-03 11:00"), 409, "rented"
    )
    assert error["details"]["end"] == "2026-03-04T00:00:00+09:00"
    forced = book(
        client,
        world,
        "operator",
        "room",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        account_id=world.id("maker"),
        override_reason="tenant away",
    )
    refused(forced, 409, "rented")
    # The day after the contract ends the room is everyone's again.
    assert (
        book(client, world, "maker", "room", "2026-03-04 10:00", "2026-03-04 11:00").status_code
        == 201
    )


def test_members_of_the_tenant_company_book_the_let_room(client, world, session):
    firm = company(session)
    join(session, world, "maker", firm, bills=False)
    contract(session, world, "2026-03-01", None, firm=firm)
    assert (
        book(client, world, "maker", "room", "2026-03-03 10:00", "2026-03-03 11:00").status_code
        == 201
    )


def test_a_company_invoice_names_the_company_and_its_sections(client, world, session, held, priced):
    firm = company(session)
    join(session, world, "maker", firm)
    contract(session, world, "2026-02-15", fee=840_000, firm=firm)
    held("maker", "room", "2026-02-11", "10:00-12:00")
    session.commit()
    admin = world.headers("admin")
    (created,) = client.post("/api/v1/invoices/issue?period=2026-02", headers=admin).json
    detail = client.get(f"/api/v1/invoices/{created['id']}", headers=admin).json
    assert detail["company"] == {
        "id": firm.id,
        "name": "성수가죽공방",
        "business_number": "123-45-67890",
        "representative": "김성수",
    }
    assert (detail["company_id"], detail["account_id"]) == (firm.id, None)
    # Rent 840,000 × 14 / 28 = 420,000 (the company's own); the booking 2 h × 10,000 won.
    assert detail["sections"] == [
        {"member_account_id": None, "member_name": "", "total": 420_000},
        {"member_account_id": world.id("maker"), "member_name": "maker", "total": 20_000},
    ]
    assert detail["total"] == 440_000
    # The member sees the company invoice that has a section of theirs; another maker does not.
    mine = client.get("/api/v1/invoices", headers=world.headers("maker")).json
    assert [i["id"] for i in mine] == [created["id"]]
    other = client.get(f"/api/v1/invoices/{created['id']}", headers=world.headers("other"))
    assert other.status_code == 404


def test_a_let_room_shows_free_to_its_tenant_only(client, world, session):
    contract(session, world, "2026-03-03", "2026-03-03", who="other")
    query = "from=2026-03-03T10:00:00%2B09:00&to=2026-03-03T12:00:00%2B09:00"
    url = f"/api/v1/resources/{world.id('room')}/availability?{query}"
    theirs = client.get(url, headers=world.headers("other")).json["free"]
    mine = client.get(url, headers=world.headers("maker")).json["free"]
    assert [(iv["start"], iv["end"]) for iv in theirs] == [
        ("2026-03-03T01:00:00Z", "2026-03-03T03:00:00Z")
    ]
    assert mine == []
    # The day after the contract, the room is free to everyone again.
    after = url.replace("2026-03-03", "2026-03-04")
    assert client.get(after, headers=world.headers("maker")).json["free"] != []
