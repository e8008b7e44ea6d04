"""The database guards the ledger: raw SQL cannot change what the issuing path wrote.

Every attempt goes through the engine, bypassing the rules, and must fail with a
database error and leave the invoices, their lines and the number counter as they were.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from service.models import Invoice
from service.rules.credit_notes import credit_invoice
from tests.billing import issue
from tests.conftest import CURRENT_TIME
from tests.factories import make_run

TABLES = ("invoice", "invoice_line", "invoice_counter")
# A new row's columns, for raw INSERTs.
DRAFT = (
    "INSERT INTO invoice (number, account_id, period, kind, status, reason, issued_at, "
    "currency, total, vat, net{extra}) VALUES ('SF-X-1', :account, '2026-02', '{kind}', "
    "'{status}', '', :at, 'KRW', {total}, 0, {total}{extra_value})"
)
LINE = (
    "INSERT INTO invoice_line (invoice_id, position, basis, description, quantity_minutes, "
    "unit_price, discount_percent, amount{extra}) "
    "VALUES ({invoice}, 9, 'run_time', 'extra', 10, 22000, 0, {amount}{extra_value})"
)


def _snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {
            table: [tuple(row) for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]  # noqa: S608 - constant table names
            for table in TABLES
        }


def _refused(engine: Engine, *statements: str, **params: object) -> str:
    """Run the statements in one transaction; it must fail and change nothing."""
    before = _snapshot(engine)
    with pytest.raises(DBAPIError) as refusal, engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)
    assert _snapshot(engine) == before
    return str(refusal.value.orig)


@pytest.fixture
def ledger(session, world, terms, priced) -> Invoice:
    """The maker's February invoice, issued: one 10-minute laser run, 3,667 won."""
    make_run(session, world, "laser", "2026-02-10 10:00", 600, who="maker")
    session.commit()
    (invoice,) = issue(session, terms).created
    return invoice


def _first_line(engine: Engine, invoice_id: int) -> int:
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT id FROM invoice_line WHERE invoice_id = :i"), {"i": invoice_id}
        )
        return int(found.scalar_one())


def test_a_line_cannot_be_added_to_an_issued_invoice(engine, ledger):
    line = LINE.format(invoice=ledger.id, amount=3_667, extra="", extra_value="")
    assert "draft" in _refused(engine, line)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE invoice SET total = 0, vat = 0, net = 0",
        "UPDATE invoice SET status = 'draft'",
        "UPDATE invoice SET reason = 'edited'",
        "DELETE FROM invoice",
        "UPDATE invoice_line SET amount = 0",
        "DELETE FROM invoice_line",
    ],
)
def test_an_issued_invoice_and_its_lines_refuse_any_change(engine, ledger, statement):
    assert "immutable" in _refused(engine, statement)


def test_an_invoice_cannot_be_inserted_already_issued(engine, world, ledger):
    insert = DRAFT.format(kind="invoice", status="issued", total=0, extra="", extra_value="")
    message = _refused(engine, insert, account=world.id("other"), at=CURRENT_TIME)
    assert "draft" in message


def test_a_draft_is_issued_only_with_the_sum_of_its_lines(engine, world, ledger):
    draft = DRAFT.format(kind="invoice", status="draft", total=5_000, extra="", extra_value="")
    line = LINE.format(
        invoice="(SELECT max(id) FROM invoice)", amount=3_000, extra="", extra_value=""
    )
    flip = "UPDATE invoice SET status = 'issued' WHERE number = 'SF-X-1'"
    message = _refused(engine, draft, line, flip, account=world.id("other"), at=CURRENT_TIME)
    assert "sum of its lines" in message


def test_the_issuing_path_in_raw_sql_works_and_then_nothing_changes(engine, world, ledger):
    # Draft, lines, issued in one transaction: the path the rules take.
    draft = DRAFT.format(kind="invoice", status="draft", total=3_000, extra="", extra_value="")
    line = LINE.format(
        invoice="(SELECT max(id) FROM invoice)", amount=3_000, extra="", extra_value=""
    )
    with engine.begin() as conn:
        params = {"account": world.id("other"), "at": CURRENT_TIME}
        conn.execute(text(draft), params)
        conn.execute(text(line))
        conn.execute(text("UPDATE invoice SET status = 'issued' WHERE number = 'SF-X-1'"))
    late = LINE.format(invoice="(SELECT max(id) FROM invoice)", amount=1, extra="", extra_value="")
    assert "draft" in _refused(engine, late)


def test_a_second_invoice_for_the_same_account_and_month_is_refused(engine, world, ledger):
    draft = DRAFT.format(kind="invoice", status="draft", total=0, extra="", extra_value="")
    _refused(engine, draft, account=world.id("maker"), at=CURRENT_TIME)


def test_only_a_credited_invoice_can_be_replaced(engine, world, ledger):
    draft = DRAFT.format(
        kind="invoice", status="draft", total=0, extra=", replaces_id", extra_value=f", {ledger.id}"
    )
    flip = "UPDATE invoice SET status = 'issued' WHERE number = 'SF-X-1'"
    message = _refused(engine, draft, flip, account=world.id("maker"), at=CURRENT_TIME)
    assert "credit note" in message


def test_a_credit_line_must_cancel_a_line_of_the_corrected_invoice(
    engine, session, world, terms, ledger
):
    note = DRAFT.format(
        kind="credit_note",
        status="draft",
        total=0,
        extra=", corrects_id",
        extra_value=f", {ledger.id}",
    )
    original_line = _first_line(engine, ledger.id)
    note_id = "(SELECT max(id) FROM invoice)"
    for (
        amount,
        credited,
    ) in ((-3_667, "NULL"), (-1_000, original_line)):
        line = LINE.format(
            invoice=note_id, amount=amount, extra=", credits_line_id", extra_value=f", {credited}"
        )
        message = _refused(engine, note, line, account=world.id("maker"), at=CURRENT_TIME)
        assert "cancels one line" in message


def test_a_line_of_a_credit_note_is_credited_once(engine, session, world, terms, ledger):
    note = credit_invoice(
        session=session,
        now=CURRENT_TIME,
        terms=terms,
        invoice_id=ledger.id,
        actor_id=None,
        reason="wrong rate",
    )
    session.commit()
    assert note.total == -3_667
    with engine.connect() as conn:
        credited = conn.execute(
            text("SELECT credits_line_id FROM invoice_line WHERE invoice_id = :i"), {"i": note.id}
        ).scalar_one()
    assert credited == _first_line(engine, ledger.id)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE invoice_counter SET last = last - 1",
        "UPDATE invoice_counter SET last = 0",
        "UPDATE invoice_counter SET year = year + 1",
        "UPDATE invoice_counter SET series = 'credit_note'",
        "DELETE FROM invoice_counter",
    ],
)
def test_the_number_counter_only_moves_forward(engine, ledger, statement):
    assert "only move forward" in _refused(engine, statement)


def test_the_number_counter_cannot_be_reset_by_an_upsert(engine, ledger):
    if engine.dialect.name == "sqlite":
        upsert = "INSERT OR REPLACE INTO invoice_counter (year, last) VALUES (2026, 0)"
    else:
        upsert = (
            "INSERT INTO invoice_counter (year, last) VALUES (2026, 0) "
            "ON CONFLICT (series, year) DO UPDATE SET last = 0"
        )
    assert "only move forward" in _refused(engine, upsert)


def test_an_issued_line_cannot_be_replaced_by_an_upsert(engine, ledger):
    line_id = _first_line(engine, ledger.id)
    columns = (
        "(id, invoice_id, position, basis, description, quantity_minutes, unit_price, "
        "discount_percent, amount)"
    )
    values = f"VALUES ({line_id}, {ledger.id}, 1, 'run_time', 'free', 10, 0, 0, 0)"
    if engine.dialect.name == "sqlite":
        upsert = f"INSERT OR REPLACE INTO invoice_line {columns} {values}"
    else:
        upsert = (
            f"INSERT INTO invoice_line {columns} {values} ON CONFLICT (id) DO UPDATE SET amount = 0"
        )
    _refused(engine, upsert)


def test_counting_forward_is_allowed(engine, ledger):
    with engine.begin() as conn:
        conn.execute(text("UPDATE invoice_counter SET last = last + 5"))
        assert conn.execute(text("SELECT last FROM invoice_counter")).scalar_one() == 6
