"""ledger guard: drafts issued once, lines of issued invoices fixed, numbers only forward;
rate plans choose their charging unit

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30

An invoice (or credit note) is inserted as a draft, its lines are added, and it is
flipped to issued in the same transaction, with a total that must be the sum of
its lines. From then on the database refuses any change: no UPDATE or DELETE of
the invoice, no line added, changed or deleted. A credit note's lines each cancel
one line of the invoice it corrects. An invoice may replace a credited invoice of
the same account and month; the one-invoice-per-month index excludes those. The
invoice-number counter may only move forward and is never deleted.

A rate plan says whether run time is rounded and held to its minimum per
reservation (the default) or per run.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

REFUSAL = "issued invoices are immutable; correct them with a credit note"
DRAFT_ONLY = "an invoice is written as a draft and issued by the issuing path"
LINES = "lines are added to a draft invoice only"
CREDIT_LINE = "a credit-note line cancels one line of the invoice it corrects, amount negated"
BALANCE = "an invoice is issued with the sum of its lines as total, VAT and net adding up"
REPLACES = "only an invoice with a credit note can be replaced"
FORWARD = "invoice numbers only move forward"

SUM_OF_LINES = "(SELECT COALESCE(SUM(amount), 0) FROM invoice_line WHERE invoice_id = NEW.id)"
CREDITED = "EXISTS (SELECT 1 FROM invoice c WHERE c.corrects_id = NEW.replaces_id)"
LINE_MATCHES = (
    "EXISTS (SELECT 1 FROM invoice_line o JOIN invoice n ON n.id = NEW.invoice_id "
    "WHERE o.id = NEW.credits_line_id AND o.invoice_id = n.corrects_id "
    "AND o.amount = -NEW.amount)"
)
IS_NOTE = "(SELECT kind FROM invoice WHERE id = NEW.invoice_id) = 'credit_note'"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column(
        "rate_plan",
        sa.Column(
            "charge_unit", sa.String(length=16), nullable=False, server_default="reservation"
        ),
    )
    # Invoices already in the ledger are issued; a raw INSERT without a status is too,
    # and is refused for it.
    op.add_column(
        "invoice",
        sa.Column("status", sa.String(length=16), nullable=False, server_default="issued"),
    )
    _add_reference(sqlite, "invoice", "replaces_id", "invoice")
    _add_reference(sqlite, "invoice_line", "credits_line_id", "invoice_line")
    op.create_index("uq_invoice_replaces_id", "invoice", ["replaces_id"], unique=True)
    op.create_index(
        "uq_invoice_line_credits_line_id", "invoice_line", ["credits_line_id"], unique=True
    )
    _one_per_month("kind = 'invoice' AND replaces_id IS NULL")
    if sqlite:
        _sqlite_guards()
    else:
        _postgresql_guards()


def _add_reference(sqlite: bool, table: str, column: str, target: str) -> None:
    """A nullable foreign key column added in place (SQLite cannot ALTER a constraint in)."""
    if sqlite:
        existing = {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}
        if column in existing:
            return  # kept by a downgrade on SQLite (see there), empty
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER REFERENCES {target} (id)")
        return
    op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
    op.create_foreign_key(f"fk_{table}_{column}", table, target, [column], ["id"])


def _one_per_month(where: str) -> None:
    op.drop_index("uq_invoice_account_period", table_name="invoice")
    op.create_index(
        "uq_invoice_account_period",
        "invoice",
        ["account_id", "period"],
        unique=True,
        postgresql_where=sa.text(where),
        sqlite_where=sa.text(where),
    )


def _sqlite_trigger(name: str, when: str, table: str, condition: str, message: str) -> None:
    op.execute(
        f"CREATE TRIGGER {name} BEFORE {when} ON {table} WHEN {condition} "
        f"BEGIN SELECT RAISE(ABORT, '{message} ({table})'); END"
    )


def _sqlite_guards() -> None:
    # SQLite runs the triggers of one event in no order we may rely on: the checks of
    # the issuing step name the draft, so an issued invoice meets only the refusal.
    op.execute("DROP TRIGGER invoice_no_update")
    for name, when, table, condition, message in (
        ("invoice_insert_draft", "INSERT", "invoice", "NEW.status <> 'draft'", DRAFT_ONLY),
        ("invoice_no_update", "UPDATE", "invoice", "OLD.status <> 'draft'", REFUSAL),
        (
            "invoice_issue_status",
            "UPDATE",
            "invoice",
            "OLD.status = 'draft' AND NEW.status NOT IN ('draft', 'issued')",
            DRAFT_ONLY,
        ),
        (
            "invoice_issue_balanced",
            "UPDATE",
            "invoice",
            f"OLD.status = 'draft' AND NEW.status <> 'draft' AND (NEW.total <> {SUM_OF_LINES} "
            "OR NEW.vat + NEW.net <> NEW.total)",
            BALANCE,
        ),
        (
            "invoice_issue_replaces",
            "UPDATE",
            "invoice",
            f"OLD.status = 'draft' AND NEW.status <> 'draft' AND NEW.replaces_id IS NOT NULL "
            f"AND NOT {CREDITED}",
            REPLACES,
        ),
        (
            "invoice_line_to_draft",
            "INSERT",
            "invoice_line",
            "(SELECT status FROM invoice WHERE id = NEW.invoice_id) IS NOT 'draft'",
            LINES,
        ),
        (
            "invoice_line_credit",
            "INSERT",
            "invoice_line",
            f"({IS_NOTE}) IS NOT (NEW.credits_line_id IS NOT NULL) "
            f"OR (NEW.credits_line_id IS NOT NULL AND NOT {LINE_MATCHES})",
            CREDIT_LINE,
        ),
        (
            "invoice_counter_forward",
            "UPDATE",
            "invoice_counter",
            "NEW.last < OLD.last OR NEW.year <> OLD.year",
            FORWARD,
        ),
        ("invoice_counter_no_delete", "DELETE", "invoice_counter", "1", FORWARD),
    ):
        _sqlite_trigger(name, when, table, condition, message)


SQLITE_TRIGGERS = (
    "invoice_insert_draft",
    "invoice_issue_status",
    "invoice_issue_balanced",
    "invoice_issue_replaces",
    "invoice_line_to_draft",
    "invoice_line_credit",
    "invoice_counter_forward",
    "invoice_counter_no_delete",
)


def _refuse(message: str, table: str) -> str:
    return f"RAISE EXCEPTION '{message} ({table})' USING ERRCODE = 'integrity_constraint_violation'"


def _postgresql_guards() -> None:
    op.execute("DROP TRIGGER invoice_immutable ON invoice")
    op.execute(
        "CREATE FUNCTION invoice_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP = 'INSERT' THEN "
        f"  IF NEW.status <> 'draft' THEN {_refuse(DRAFT_ONLY, 'invoice')}; END IF; "
        "  RETURN NEW; "
        "END IF; "
        f"IF TG_OP = 'DELETE' OR OLD.status <> 'draft' THEN {_refuse(REFUSAL, 'invoice')}; "
        "END IF; "
        "IF NEW.status NOT IN ('draft', 'issued') THEN "
        f"  {_refuse(DRAFT_ONLY, 'invoice')}; END IF; "
        "IF NEW.status <> 'draft' THEN "
        f"  IF NEW.total <> {SUM_OF_LINES} OR NEW.vat + NEW.net <> NEW.total THEN "
        f"    {_refuse(BALANCE, 'invoice')}; END IF; "
        f"  IF NEW.replaces_id IS NOT NULL AND NOT {CREDITED} THEN "
        f"    {_refuse(REPLACES, 'invoice')}; END IF; "
        "END IF; "
        "RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER invoice_guard BEFORE INSERT OR UPDATE OR DELETE ON invoice "
        "FOR EACH ROW EXECUTE FUNCTION invoice_guard()"
    )
    op.execute(
        " ".join(
            (
                "CREATE FUNCTION invoice_line_guard() RETURNS trigger LANGUAGE plpgsql AS $$",
                "BEGIN IF (SELECT status FROM invoice WHERE id = NEW.invoice_id)",
                f"IS DISTINCT FROM 'draft' THEN {_refuse(LINES, 'invoice_line')}; END IF;",
                f"IF ({IS_NOTE}) IS DISTINCT FROM (NEW.credits_line_id IS NOT NULL)",
                f"OR (NEW.credits_line_id IS NOT NULL AND NOT {LINE_MATCHES})",
                f"THEN {_refuse(CREDIT_LINE, 'invoice_line')}; END IF;",
                "RETURN NEW; END $$",
            )
        )
    )
    op.execute(
        "CREATE TRIGGER invoice_line_insert BEFORE INSERT ON invoice_line "
        "FOR EACH ROW EXECUTE FUNCTION invoice_line_guard()"
    )
    op.execute(
        "CREATE FUNCTION invoice_counter_forward() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP = 'DELETE' OR NEW.last < OLD.last OR NEW.year <> OLD.year "
        f"THEN {_refuse(FORWARD, 'invoice_counter')}; END IF; "
        "RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER invoice_counter_forward BEFORE UPDATE OR DELETE ON invoice_counter "
        "FOR EACH ROW EXECUTE FUNCTION invoice_counter_forward()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TRIGGER invoice_no_update")
        op.execute(
            "CREATE TRIGGER invoice_no_update BEFORE UPDATE ON invoice "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSAL} (invoice)'); END"
        )
    else:
        op.execute("DROP TRIGGER invoice_counter_forward ON invoice_counter")
        op.execute("DROP FUNCTION invoice_counter_forward()")
        op.execute("DROP TRIGGER invoice_line_insert ON invoice_line")
        op.execute("DROP FUNCTION invoice_line_guard()")
        op.execute("DROP TRIGGER invoice_guard ON invoice")
        op.execute("DROP FUNCTION invoice_guard()")
        op.execute(
            "CREATE TRIGGER invoice_immutable BEFORE UPDATE OR DELETE ON invoice "
            "FOR EACH ROW EXECUTE FUNCTION invoice_refuse_change()"
        )
    # Downgrading drops the replacements' exemption: it works only while no month
    # has a replacement invoice, and otherwise rolls back whole.
    _one_per_month("kind = 'invoice'")
    op.drop_index("uq_invoice_line_credits_line_id", table_name="invoice_line")
    op.drop_index("uq_invoice_replaces_id", table_name="invoice")
    if op.get_bind().dialect.name == "postgresql":
        for table, column in (("invoice_line", "credits_line_id"), ("invoice", "replaces_id")):
            op.drop_constraint(f"fk_{table}_{column}", table, type_="foreignkey")
            op.drop_column(table, column)
    # SQLite drops no column under a foreign key without copying the table, which the
    # tables referencing it refuse: there the two empty reference columns stay.
    op.drop_column("invoice", "status")
    op.drop_column("rate_plan", "charge_unit")
