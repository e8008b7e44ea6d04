"""The closing window: open runs hold a month back until the grace period ends.

The laser costs 22,000 won/h by run time. February ends 1 March 00:00 in Seoul;
with the default grace of 72 hours it is issued despite open runs from 4 March
00:00. CURRENT_TIME (2 March 09:00 in Seoul) is inside the grace period.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta

import pytest

from service.errors import Conflict
from service.models import LineBasis, UsageSession
from tests.billing import invoice_of, issue, lines
from tests.factories import make_run, refused, seoul

AFTER_GRACE = seoul("2026-03-04 00:00")


def open_run(session, world, start: str, so_far_s: int, who: str = "maker") -> UsageSession:
    """A laser run that started at Seoul `start`, has run `so_far_s` seconds, and goes on."""
    run = make_run(session, world, "laser", start, so_far_s, who=who)
    run.end_at = None
    session.add(run)
    session.commit()
    return run


def end_run(session, run: UsageSession, run_seconds: int) -> None:
    run.end_at = run.start_at + timedelta(seconds=run_seconds)
    run.run_seconds = run_seconds
    run.last_sample_at = run.end_at
    session.add(run)
    session.commit()


def test_an_open_run_holds_the_month_back_with_409_naming_it(client, session, world, priced):
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="other")
    run = open_run(session, world, "2026-02-28 23:30", 1_800)
    answer = client.post("/api/v1/invoices/issue?period=2026-02", headers=world.headers("admin"))
    error = refused(answer, 409, "month_open")
    assert error["details"]["sessions"] == [
        {
            "id": run.id,
            "resource_id": world.id("laser"),
            "resource": "laser-1",
            "started_at": seoul("2026-02-28 23:30").astimezone(UTC).isoformat(),
        }
    ]
    assert error["details"]["grace_ends_at"] == AFTER_GRACE.astimezone(UTC).isoformat()
    # Nobody was invoiced, not even the account whose run had ended.
    assert client.get("/api/v1/invoices", headers=world.headers("admin")).json == []


def test_the_month_is_issued_as_soon_as_its_open_runs_end(session, world, terms, priced):
    run = open_run(session, world, "2026-02-28 23:30", 1_800)
    with pytest.raises(Conflict):
        issue(session, terms)
    session.rollback()
    end_run(session, run, 2_700)
    (invoice,) = issue(session, terms).created
    # 45 min × 22,000 / 60 = 16,500.
    assert invoice.total == 16_500


def test_a_run_open_in_the_next_month_does_not_hold_this_one(session, world, terms, priced):
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    open_run(session, world, "2026-03-01 00:10", 600)
    assert len(issue(session, terms).created) == 1


def test_after_the_grace_an_open_run_is_billed_so_far_and_the_rest_next_month(
    session, world, terms, priced
):
    run = open_run(session, world, "2026-02-28 22:00", 3_600)
    february = invoice_of(issue(session, terms, now=AFTER_GRACE), world, "maker")
    # What it ran up to the issue: 60 min × 22,000 / 60 = 22,000.
    assert [(x.usage_session_id, x.amount) for x in lines(session, february)] == [(run.id, 22_000)]
    end_run(session, run, 5_400)  # it ran 90 minutes in all
    make_run(session, world, "laser", "2026-03-10 10:00", 600, who="maker")
    session.commit()
    march = invoice_of(issue(session, terms, "2026-03", seoul("2026-04-01 00:00")), world, "maker")
    own, adjustment = lines(session, march)
    # March: 10 min × 22,000 / 60 = 3,666.67 → 3,667.
    assert (own.basis, own.amount) == (LineBasis.run_time, 3_667)
    # The remaining 30 min: 90 min (33,000) less the 60 min invoiced (22,000) = 11,000.
    assert (adjustment.basis, adjustment.amount, adjustment.quantity_minutes) == (
        LineBasis.adjustment,
        11_000,
        30,
    )
    assert (adjustment.usage_session_id, adjustment.adjusts_period) == (run.id, "2026-02")
    assert "2026-02" in adjustment.description and f"#{run.id}" in adjustment.description
    assert march.total == 14_667


def test_the_grace_period_comes_from_the_billing_settings(session, world, terms, priced):
    open_run(session, world, "2026-02-28 23:30", 1_800)
    no_grace = replace(terms, close_grace=timedelta(0))
    # 30 min so far × 22,000 / 60 = 11,000, at the first minute of March.
    (invoice,) = issue(session, no_grace, now=seoul("2026-03-01 00:00")).created
    assert invoice.total == 11_000
    assert terms.close_grace == timedelta(hours=72)
