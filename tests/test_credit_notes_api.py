"""The API of corrections: POST /invoices/{id}/credit with chosen lines, then /reissue."""

from __future__ import annotations

import pytest
from sqlmodel import select

from service.models import AuditLog
from tests.factories import make_run, refused


@pytest.fixture
def invoice(client, world, session, priced) -> dict:
    """The maker's February invoice: laser 10 min (3,667) and 30 min (11,000) = 14,667."""
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    make_run(session, world, "laser", "2026-02-11 10:00", 1_800, who="maker")
    session.commit()
    issued = client.post("/api/v1/invoices/issue?period=2026-02", headers=world.headers("admin"))
    assert issued.status_code == 201, issued.json
    (one,) = issued.json
    answer = client.get(f"/api/v1/invoices/{one['id']}", headers=world.headers("admin"))
    assert answer.json["total"] == 14_667
    return dict(answer.json)


def post(client, world, path, who="admin", body=None):
    return client.post(f"/api/v1/invoices/{path}", headers=world.headers(who), json=body)


def test_a_credit_for_chosen_lines_is_201_with_the_negated_lines(client, world, invoice):
    second = invoice["lines"][1]
    answer = post(
        client,
        world,
        f"{invoice['id']}/credit",
        body={"reason": "rate", "line_ids": [second["id"]]},
    )
    assert answer.status_code == 201, answer.json
    note = answer.json
    # 11,000 × 0.1 / 1.1 = 1,000 exactly.
    assert (note["total"], note["vat"], note["net"]) == (-11_000, -1_000, -10_000)
    assert note["corrects_id"] == invoice["id"] and note["reason"] == "rate"
    assert [(x["credits_line_id"], x["amount"]) for x in note["lines"]] == [(second["id"], -11_000)]


def test_the_month_is_invoiced_again_after_a_credit(client, world, invoice, session):
    assert (
        post(client, world, f"{invoice['id']}/credit", body={"reason": "rate"}).status_code == 201
    )
    answer = post(client, world, f"{invoice['id']}/reissue")
    assert answer.status_code == 201, answer.json
    again = answer.json
    assert again["replaces_id"] == invoice["id"] and again["number"] == "2026-02-000002"
    assert [x["amount"] for x in again["lines"]] == [3_667, 11_000]
    assert (again["total"], again["vat"], again["net"]) == (14_667, 1_333, 13_334)
    entry = session.exec(select(AuditLog).where(AuditLog.action == "invoice.reissue")).one()
    assert entry.actor_id == world.id("admin")


def test_reissuing_an_invoice_not_credited_is_409(client, world, invoice):
    refused(post(client, world, f"{invoice['id']}/reissue"), 409, "not_credited")


def test_reissuing_twice_is_409(client, world, invoice):
    post(client, world, f"{invoice['id']}/credit", body={"reason": "rate"})
    assert post(client, world, f"{invoice['id']}/reissue").status_code == 201
    refused(post(client, world, f"{invoice['id']}/reissue"), 409, "already_replaced")


@pytest.mark.parametrize("line_ids", [[], [0], ["a"]])
def test_a_credit_naming_no_line_or_a_malformed_one_is_422(client, world, invoice, line_ids):
    answer = post(
        client, world, f"{invoice['id']}/credit", body={"reason": "rate", "line_ids": line_ids}
    )
    refused(answer, 422, "validation_error")


def test_a_credit_naming_a_line_of_another_invoice_is_422(client, world, invoice):
    answer = post(
        client, world, f"{invoice['id']}/credit", body={"reason": "rate", "line_ids": [999_999]}
    )
    error = refused(answer, 422, "unknown_line")
    assert error["details"] == {"unknown_line_ids": [999_999]}


def test_reissuing_an_unknown_invoice_is_404(client, world):
    refused(post(client, world, "999999/reissue"), 404, "not_found")


def test_the_correction_operations_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    reissue = paths["/api/v1/invoices/{invoice_id}/reissue"]["post"]
    assert {"201", "403", "404", "409", "422"} <= set(reissue["responses"])
    credit = paths["/api/v1/invoices/{invoice_id}/credit"]["post"]
    assert {"201", "403", "404", "409", "422"} <= set(credit["responses"])
    assert "/api/v1/invoices/{invoice_id}/credit-note" not in paths
