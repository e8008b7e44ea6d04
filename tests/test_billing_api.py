"""The invoices API: issue a closed month, read by role, credit notes, bad input."""

from __future__ import annotations

import pytest
from sqlmodel import select

from service.models import AuditLog, Resource
from tests.factories import make_run, refused

FEB = "2026-02"
ROLES = ("maker", "other", "operator", "mullae_operator", "admin")
# actor -> whose February invoices they see: makers their own, operators those with
# a line at their site (maker used Seongsu's laser, other Mullae's lathe), admins all.
SEES = {
    "maker": {"maker"},
    "other": {"other"},
    "operator": {"maker"},
    "mullae_operator": {"other"},
    "admin": {"maker", "other"},
}


@pytest.fixture
def usage(session, world) -> None:
    """February: the maker ran the Seongsu laser 10 minutes, the other maker the lathe 90."""
    lathe = session.get(Resource, world.id("lathe"))
    lathe.rate_per_hour = 20_000
    session.add(lathe)
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    make_run(session, world, "lathe", "2026-02-11 14:00", 5400, who="other")
    session.commit()


def issue(client, world, who="admin", period=FEB):
    return client.post(
        "/api/v1/invoices/issue", headers=world.headers(who), query_string={"period": period}
    )


@pytest.fixture
def invoices(client, world, usage) -> dict[str, int]:
    """The February invoice ids by account name."""
    answer = issue(client, world)
    assert answer.status_code == 201, answer.json
    by_account = {i["account_id"]: i["id"] for i in answer.json}
    return {who: by_account[world.id(who)] for who in ("maker", "other")}


def credit(client, world, invoice_id, who="admin", body=None):
    return client.post(
        f"/api/v1/invoices/{invoice_id}/credit",
        headers=world.headers(who),
        json={"reason": "wrong rate on the laser"} if body is None else body,
    )


def test_admin_issues_a_closed_month_and_gets_the_new_invoices(client, world, usage):
    answer = issue(client, world)
    assert answer.status_code == 201
    got = {i["account_id"]: i for i in answer.json}
    mine, theirs = got[world.id("maker")], got[world.id("other")]
    assert (mine["total"], mine["vat"], mine["net"]) == (3_667, 333, 3_334)
    assert (theirs["total"], theirs["vat"], theirs["net"]) == (30_000, 2_727, 27_273)
    assert mine["currency"] == "KRW" and mine["kind"] == "invoice" and mine["period"] == FEB
    assert {mine["number"], theirs["number"]} == {"2026-02-000001", "2026-02-000002"}


def test_an_invoice_is_read_with_its_lines(client, world, invoices):
    answer = client.get(f"/api/v1/invoices/{invoices['other']}", headers=world.headers("other"))
    assert answer.status_code == 200
    (line,) = answer.json["lines"]
    assert line["basis"] == "run_time" and line["resource_id"] == world.id("lathe")
    assert (line["quantity_minutes"], line["unit_price"], line["amount"]) == (90, 20_000, 30_000)
    assert line["description"] == "lathe-1 · 2026-02-11"


def test_issuing_a_month_again_answers_200_with_the_existing_invoices(client, world, invoices):
    again = issue(client, world)
    assert again.status_code == 200
    assert sorted(i["id"] for i in again.json) == sorted(invoices.values())
    listed = client.get("/api/v1/invoices", headers=world.headers("admin"))
    assert len(listed.json) == 2


def test_a_month_with_nothing_to_bill_issues_no_invoice(client, world):
    answer = issue(client, world)
    assert answer.status_code == 200
    assert answer.json == []


@pytest.mark.parametrize("actor", ROLES)
def test_listing_invoices_follows_the_role_matrix(client, world, invoices, actor):
    answer = client.get("/api/v1/invoices", headers=world.headers(actor))
    assert answer.status_code == 200
    assert {i["id"] for i in answer.json} == {invoices[who] for who in SEES[actor]}


@pytest.mark.parametrize("actor", ROLES)
def test_reading_an_invoice_follows_the_role_matrix(client, world, invoices, actor):
    answer = client.get(f"/api/v1/invoices/{invoices['maker']}", headers=world.headers(actor))
    if "maker" in SEES[actor]:
        assert answer.status_code == 200
        assert answer.json["id"] == invoices["maker"]
    else:
        refused(answer, 404, "not_found")


@pytest.mark.parametrize("actor", ROLES)
def test_only_an_admin_issues_invoices(client, world, usage, actor):
    answer = issue(client, world, who=actor)
    if actor == "admin":
        assert answer.status_code == 201
    else:
        refused(answer, 403, "forbidden")
        assert client.get("/api/v1/invoices", headers=world.headers("admin")).json == []


@pytest.mark.parametrize("actor", ROLES)
def test_only_an_admin_issues_credit_notes(client, world, invoices, actor):
    answer = credit(client, world, invoices["maker"], who=actor)
    if actor == "admin":
        assert answer.status_code == 201
    else:
        refused(answer, 403, "forbidden")


def test_listing_filters_by_period_account_and_kind(client, world, invoices):
    admin = world.headers("admin")
    credit(client, world, invoices["maker"])
    by_account = client.get(f"/api/v1/invoices?account={world.id('maker')}", headers=admin)
    assert len(by_account.json) == 2
    notes = client.get("/api/v1/invoices?kind=credit_note", headers=admin)
    assert [n["corrects_id"] for n in notes.json] == [invoices["maker"]]
    assert client.get("/api/v1/invoices?period=2026-01", headers=admin).json == []
    assert len(client.get(f"/api/v1/invoices?period={FEB}", headers=admin).json) == 3


def test_a_maker_asking_for_someone_elses_invoices_is_403(client, world, invoices):
    answer = client.get(
        "/api/v1/invoices",
        headers=world.headers("maker"),
        query_string={"account": world.id("other")},
    )
    refused(answer, 403, "forbidden")


def test_a_credit_note_negates_every_line_and_names_the_invoice(client, world, invoices, session):
    original = client.get(f"/api/v1/invoices/{invoices['maker']}", headers=world.headers("admin"))
    answer = credit(client, world, invoices["maker"])
    assert answer.status_code == 201
    note = answer.json
    assert note["kind"] == "credit_note" and note["corrects_id"] == invoices["maker"]
    assert note["reason"] == "wrong rate on the laser" and note["number"] == "CN-2026-02-000001"
    assert (note["total"], note["vat"], note["net"]) == (-3_667, -333, -3_334)
    assert [(x["description"], x["amount"]) for x in note["lines"]] == [
        (x["description"], -x["amount"]) for x in original.json["lines"]
    ]
    # The original is untouched, and the maker sees both.
    again = client.get(f"/api/v1/invoices/{invoices['maker']}", headers=world.headers("maker"))
    assert again.json == original.json
    mine = client.get("/api/v1/invoices", headers=world.headers("maker")).json
    assert {i["kind"] for i in mine} == {"invoice", "credit_note"}
    entry = session.exec(select(AuditLog).where(AuditLog.action == "invoice.credit")).one()
    assert entry.subject == f"invoice:{invoices['maker']}" and entry.actor_id == world.id("admin")


def test_a_second_credit_note_for_the_same_invoice_is_409(client, world, invoices):
    assert credit(client, world, invoices["maker"]).status_code == 201
    refused(credit(client, world, invoices["maker"]), 409, "already_credited")


def test_a_credit_note_cannot_itself_be_credited(client, world, invoices):
    note = credit(client, world, invoices["maker"]).json
    refused(credit(client, world, note["id"]), 422, "not_an_invoice")


@pytest.mark.parametrize("period", ["2026-2", "2026-13", "", "march", "2026-02-01"])
def test_issuing_a_malformed_period_is_422(client, world, period):
    refused(issue(client, world, period=period), 422, "validation_error")


def test_issuing_without_a_period_or_with_unknown_fields_is_422(client, world):
    admin = world.headers("admin")
    refused(client.post("/api/v1/invoices/issue", headers=admin), 422, "validation_error")
    answer = client.post(f"/api/v1/invoices/issue?period={FEB}&dry=1", headers=admin)
    refused(answer, 422, "validation_error")


def test_issuing_a_month_not_yet_over_is_422_with_when_it_closes(client, world, usage):
    error = refused(issue(client, world, period="2026-03"), 422, "period_open")
    assert "2026-04-01" in error["message"]
    assert error["details"]["closes_at"] == "2026-04-01T00:00:00+09:00"


@pytest.mark.parametrize(
    "body,status,code",
    [
        ({}, 422, "validation_error"),
        ({"reason": ""}, 422, "validation_error"),
        ({"reason": "typo", "amount": 5}, 422, "validation_error"),
    ],
)
def test_a_credit_note_request_needs_only_a_reason(client, world, invoices, body, status, code):
    refused(credit(client, world, invoices["maker"], body=body), status, code)


def test_a_credit_note_body_that_is_not_json_is_400(client, world, invoices):
    answer = client.post(
        f"/api/v1/invoices/{invoices['maker']}/credit",
        headers=world.headers("admin"),
        data='{"reason": ',
        content_type="application/json",
    )
    refused(answer, 400, "malformed_json")


@pytest.mark.parametrize("invoice_id", [999_999, 2**31, 2**63 - 1, 2**64])
def test_unknown_invoices_are_404(client, world, invoice_id):
    refused(
        client.get(f"/api/v1/invoices/{invoice_id}", headers=world.headers("admin")),
        404,
        "not_found",
    )
    refused(credit(client, world, invoice_id), 404, "not_found")


def test_invoices_need_a_token(client):
    refused(client.get("/api/v1/invoices"), 401, "unauthorized")
    refused(client.post(f"/api/v1/invoices/issue?period={FEB}"), 401, "unauthorized")


def test_there_is_no_way_to_edit_or_delete_an_invoice(client, world, invoices):
    for method in (client.patch, client.put, client.delete):
        answer = method(
            f"/api/v1/invoices/{invoices['maker']}", headers=world.headers("admin"), json={}
        )
        assert answer.status_code == 405


def test_the_invoice_operations_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert set(paths["/api/v1/invoices"]) == {"get"}
    assert set(paths["/api/v1/invoices/{invoice_id}"]) == {"get"}
    issue_op = paths["/api/v1/invoices/issue"]["post"]
    assert {"201", "403", "422"} <= set(issue_op["responses"])
    assert [p["name"] for p in issue_op["parameters"]] == ["period"]
    note_op = paths["/api/v1/invoices/{invoice_id}/credit"]["post"]
    assert {"201", "404", "409"} <= set(note_op["responses"])
