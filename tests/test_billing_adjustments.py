"""Nothing lost after issue: late usage becomes adjustment lines; reconcile shows the gap.

The laser costs 22,000 won/h by run time; a no-show costs 50 % of the booked
time. February is issued on 2 March (CURRENT_TIME), March on 1 April.
"""

from __future__ import annotations

import pytest

from service.models import LineBasis
from service.rules.credit_notes import credit_invoice
from tests.billing import S, invoice_of, issue, lines
from tests.conftest import CURRENT_TIME
from tests.factories import make_run, refused, seoul

APRIL = seoul("2026-04-01 00:00")


def reconcile(client, world, period="2026-02", who="admin"):
    return client.get(f"/api/v1/invoices/reconcile?period={period}", headers=world.headers(who))


def issue_march(client, world) -> list[dict]:
    answer = client.post("/api/v1/invoices/issue?period=2026-03", headers=world.headers("admin"))
    assert answer.status_code == 201, answer.json
    return list(answer.json)


@pytest.fixture
def late(app, client, session, world, priced):
    """February issued with the maker's 10-min run (3,667); then a 30-min run of 20 Feb arrives."""
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    session.commit()
    issued = client.post("/api/v1/invoices/issue?period=2026-02", headers=world.headers("admin"))
    assert [x["total"] for x in issued.json] == [3_667]
    run = make_run(session, world, "laser", "2026-02-20 10:00", 1_800, who="maker")
    session.commit()
    app.config["CLOCK"] = lambda: APRIL
    return run


def test_reconcile_shows_late_usage_then_the_adjustment_brings_it_to_zero(
    client, session, world, late
):
    before = reconcile(client, world)
    assert before.status_code == 200, before.json
    # 10 min (3,667) invoiced; today 10 min and 30 min (11,000) = 14,667.
    assert (before.json["invoiced"], before.json["billed_today"]) == (3_667, 14_667)
    assert before.json["difference"] == 11_000
    (gap,) = [x for x in before.json["items"] if x["difference"]]
    assert (gap["source"], gap["source_id"], gap["invoiced"], gap["billed_today"]) == (
        "usage_session",
        late.id,
        0,
        11_000,
    )
    (march,) = issue_march(client, world)
    detail = client.get(f"/api/v1/invoices/{march['id']}", headers=world.headers("admin")).json
    (line,) = detail["lines"]
    assert (line["basis"], line["amount"], line["usage_session_id"]) == (
        "adjustment",
        11_000,
        late.id,
    )
    assert "2026-02" in line["description"] and f"#{late.id}" in line["description"]
    # 11,000 × 0.1 / 1.1 = 1,000.
    assert (detail["period"], detail["total"], detail["vat"]) == ("2026-03", 11_000, 1_000)
    after = reconcile(client, world).json
    assert (after["invoiced"], after["billed_today"], after["difference"]) == (14_667, 14_667, 0)


def test_an_adjustment_is_billed_once_however_many_months_follow(session, world, terms, late):
    assert len(issue(session, terms, "2026-03", APRIL).created) == 1
    make_run(session, world, "laser", "2026-04-10 10:00", 600, who="maker")
    session.commit()
    april = invoice_of(issue(session, terms, "2026-04", seoul("2026-05-01 00:00")), world, "maker")
    assert [x.basis for x in lines(session, april)] == [LineBasis.run_time]
    assert april.total == 3_667


def test_late_usage_of_an_account_not_invoiced_that_month_is_adjusted_too(
    session, world, terms, late
):
    other = make_run(session, world, "laser", "2026-02-21 10:00", 900, who="other")
    session.commit()
    march = issue(session, terms, "2026-03", APRIL)
    (line,) = lines(session, invoice_of(march, world, "other"))
    # 15 min × 22,000 / 60 = 5,500.
    assert (line.basis, line.usage_session_id) == (LineBasis.adjustment, other.id)
    assert line.amount == 5_500
    # Issuing February again then bills them nothing twice.
    assert issue(session, terms, now=APRIL).created == []


def test_an_account_invoiced_late_for_the_month_is_not_adjusted_again(session, world, terms, late):
    make_run(session, world, "laser", "2026-02-21 10:00", 900, who="other")
    session.commit()
    # Issuing February again invoices the account it had not invoiced: 5,500.
    (theirs,) = issue(session, terms).created
    assert (theirs.account_id, theirs.total) == (world.id("other"), 5_500)
    march = issue(session, terms, "2026-03", APRIL)
    assert [i.account_id for i in march.created] == [world.id("maker")]


def test_a_late_arrival_after_issue_nets_the_waived_no_show_against_its_run(
    session, world, terms, held, priced
):
    booking = held("maker", "laser", "2026-02-10", "10:00-13:00", S.no_show)
    session.commit()
    (february,) = issue(session, terms).created
    # 180 min × 22,000 / 60 × 50 % = 33,000.
    assert february.total == 33_000
    make_run(session, world, "laser", "2026-02-10 10:20", 7_200, who="maker", unauthorised=True)
    session.commit()
    (march,) = issue(session, terms, "2026-03", APRIL).created
    (line,) = lines(session, march)
    # The run (120 min, 44,000) replaces the waived no-show (33,000): 11,000 more.
    assert (line.reservation_id, line.amount) == (booking.id, 11_000)


def test_a_credit_given_stays_given_and_is_not_adjusted_back(client, session, world, terms, late):
    (february,) = issue(session, terms).existing
    credit_invoice(
        session=session,
        now=CURRENT_TIME,
        terms=terms,
        invoice_id=february.id,
        actor_id=None,
        reason="goodwill",
    )
    session.commit()
    items = {x["source_id"]: x for x in reconcile(client, world).json["items"]}
    first = items[lines(session, february)[0].usage_session_id]
    assert (first["credited"], first["invoiced"], first["difference"]) == (True, 0, 0)
    # Only the late run is adjusted: 11,000.
    (march,) = issue(session, terms, "2026-03", APRIL).created
    assert march.total == 11_000


def test_reconciling_a_month_not_issued_is_409(client, world, priced):
    refused(reconcile(client, world), 409, "not_issued")


def test_an_operator_reconciles_only_their_sites_machines(client, world, late):
    assert reconcile(client, world, who="operator").json["difference"] == 11_000
    mullae = reconcile(client, world, who="mullae_operator").json
    assert (mullae["items"], mullae["difference"]) == ([], 0)


def test_a_run_found_shorter_after_issue_is_taken_off_the_next_invoice(
    session, world, terms, priced
):
    run = make_run(session, world, "laser", "2026-02-10 10:00", 1_800, who="maker")
    session.commit()
    (february,) = issue(session, terms).created
    assert february.total == 11_000  # 30 min × 22,000 / 60
    run.run_seconds = 600  # the device's late samples put it at 10 min
    session.add(run)
    make_run(session, world, "laser", "2026-03-10 10:00", 3_600, who="maker")
    session.commit()
    (march,) = issue(session, terms, "2026-03", APRIL).created
    own, adjustment = lines(session, march)
    # 10 min is 3,666.67 → 3,667: 7,333 comes off; March's hour is 22,000.
    assert (adjustment.amount, adjustment.quantity_minutes) == (-7_333, -20)
    assert (own.amount, march.total) == (22_000, 14_667)
