"""`smartfab invoices issue --period YYYY-MM`: the month's invoices from the command line."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import func
from sqlmodel import select

from service.cli import cli
from service.models import Invoice, InvoiceLine
from tests.factories import make_run


def run(db_url: str, *args: str):
    return CliRunner().invoke(cli, list(args), env={"SMARTFAB_DATABASE__URL": db_url})


def test_invoices_issue_bills_a_past_month_once(db_url, session, world):
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    session.commit()
    first = run(db_url, "invoices", "issue", "--period", "2026-02")
    assert first.exit_code == 0, first.output
    assert f"account {world.id('maker')}  3,667 KRW" in first.output
    assert "2026-02: 1 invoice(s) issued, 0 already issued before" in first.output
    second = run(db_url, "invoices", "issue", "--period", "2026-02")
    assert second.exit_code == 0, second.output
    assert "0 invoice(s) issued, 1 already issued before" in second.output
    assert session.exec(select(func.count()).select_from(Invoice)).one() == 1


def test_invoices_issue_refuses_a_month_not_over_or_malformed(db_url, world):
    future = run(db_url, "invoices", "issue", "--period", "2099-01")
    assert future.exit_code != 0 and "not over yet" in future.output
    malformed = run(db_url, "invoices", "issue", "--period", "2026-13")
    assert malformed.exit_code != 0 and "YYYY-MM" in malformed.output
    assert "Traceback" not in future.output + malformed.output


def test_invoices_credit_and_reissue_correct_a_month(db_url, session, world):
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    make_run(session, world, "laser", "2026-02-11 10:00", 1_800, who="maker")
    session.commit()
    assert run(db_url, "invoices", "issue", "--period", "2026-02").exit_code == 0
    invoice = session.exec(select(Invoice)).one()
    line = session.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)).all()[1]
    early = run(db_url, "invoices", "reissue", str(invoice.id))
    assert early.exit_code != 0 and "credit it before" in early.output
    credited = run(
        db_url, "invoices", "credit", str(invoice.id), "--reason", "rate", "--line", str(line.id)
    )
    assert credited.exit_code == 0, credited.output
    # 22,000 won/h × 30 min = 11,000.
    assert (
        "CN-2026-02-000001" in credited.output
        and f"corrects invoice {invoice.id}  -11,000 KRW" in credited.output
    )
    again = run(db_url, "invoices", "reissue", str(invoice.id))
    assert again.exit_code == 0, again.output
    assert f"replaces invoice {invoice.id}  11,000 KRW" in again.output
    assert "Traceback" not in early.output + credited.output + again.output


def test_invoices_issue_names_the_open_runs_that_hold_the_month_back(db_url, session, world):
    held = make_run(session, world, "laser", "2026-02-28 23:30", 1_800, who="maker")
    held.end_at = None
    session.add(held)
    session.commit()
    refused = CliRunner().invoke(
        cli,
        ["invoices", "issue", "--period", "2026-02"],
        env={"SMARTFAB_DATABASE__URL": db_url, "SMARTFAB_BILLING__CLOSE_GRACE_H": "1000000"},
    )
    assert refused.exit_code != 0 and "still open" in refused.output
    assert f"session {held.id}  laser-1  started 2026-02-28T14:30:00+00:00" in refused.output
    assert "Traceback" not in refused.output
    # Past the default grace of 72 hours, the open run is billed for its 30 min so far.
    issued = run(db_url, "invoices", "issue", "--period", "2026-02")
    assert issued.exit_code == 0, issued.output
    assert f"account {world.id('maker')}  11,000 KRW" in issued.output


def test_invoices_reconcile_shows_what_a_month_lacks_today(db_url, session, world):
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    session.commit()
    assert run(db_url, "invoices", "issue", "--period", "2026-02").exit_code == 0
    late = make_run(session, world, "laser", "2026-02-20 10:00", 1_800, who="maker")
    session.commit()
    report = run(db_url, "invoices", "reconcile", "--period", "2026-02")
    assert report.exit_code == 0, report.output
    # 10 min invoiced (3,667); the late 30 min (11,000) is owed.
    assert f"usage_session {late.id}  invoiced 0  today 11,000  difference 11,000" in report.output
    assert "2026-02: invoiced 3,667, billed today 14,667, difference 11,000" in report.output
    unissued = run(db_url, "invoices", "reconcile", "--period", "2026-01")
    assert unissued.exit_code != 0 and "not been issued" in unissued.output
