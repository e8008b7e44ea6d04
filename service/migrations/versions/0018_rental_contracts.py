"""rental contracts; companies pay: invoices to a company, lines tagged by member

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30

A rental contract lets a room to a company or an account (exactly one) from a day,
to a day or open-ended, at a monthly fee. An account may bill to its company; an
invoice's payer is then the company (`company_id`) instead of an account, and each
line names the member it was for. Exactly one payer per invoice, one invoice per
payer and month (replacements of credited invoices aside). The company's
representative shown on its invoices is the column 0015 added.

SQLite cannot drop the NOT NULL of `invoice.account_id` with ALTER TABLE, and
rebuilding the table would lose the ledger-guard triggers of 0014 (and 0015's); the column
definition is relaxed in the schema text instead, the change SQLite's manual
("Making other kinds of table schema changes") allows for removing a NOT NULL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

ONE_PAYER = "an invoice has exactly one payer: an account or a company"
WHERE = "kind = 'invoice' AND replaces_id IS NULL"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "rental_contract",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("resource_id", sa.Integer(), sa.ForeignKey("resource.id"), nullable=False),
        sa.Column("company_id", sa.Integer(), sa.ForeignKey("company.id"), nullable=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id"), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("monthly_fee", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("account.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(company_id IS NULL) <> (account_id IS NULL)", name="ck_rental_contract_one_tenant"
        ),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= start_date", name="ck_rental_contract_span"
        ),
    )
    op.create_index("ix_rental_contract_resource_id", "rental_contract", ["resource_id"])
    op.add_column(
        "account",
        sa.Column("bills_to_company", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    if sqlite:
        for table, column, target in (
            ("invoice", "company_id", "company"),
            ("invoice_line", "member_account_id", "account"),
        ):
            op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER REFERENCES {target} (id)")
        _sqlite_relax_account()
        op.execute(
            "CREATE TRIGGER invoice_one_payer BEFORE INSERT ON invoice "
            "WHEN (NEW.account_id IS NULL) = (NEW.company_id IS NULL) "
            f"BEGIN SELECT RAISE(ABORT, '{ONE_PAYER} (invoice)'); END"
        )
    else:
        op.add_column("invoice", sa.Column("company_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_invoice_company_id", "invoice", "company", ["company_id"], ["id"])
        op.add_column("invoice_line", sa.Column("member_account_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_invoice_line_member_account_id",
            "invoice_line",
            "account",
            ["member_account_id"],
            ["id"],
        )
        op.alter_column("invoice", "account_id", existing_type=sa.Integer(), nullable=True)
        op.create_check_constraint(
            "ck_invoice_one_payer", "invoice", "(account_id IS NULL) <> (company_id IS NULL)"
        )
    op.create_index("ix_invoice_company_id", "invoice", ["company_id"])
    op.create_index(
        "uq_invoice_company_period",
        "invoice",
        ["company_id", "period"],
        unique=True,
        postgresql_where=sa.text(WHERE),
        sqlite_where=sa.text(WHERE),
    )


def _sqlite_relax_account() -> None:
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'invoice'"
    ).scalar_one()
    relaxed = sql.replace("account_id INTEGER NOT NULL", "account_id INTEGER", 1)
    if relaxed == sql:
        raise RuntimeError("invoice.account_id is not as migration 0004 made it")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'invoice'", (relaxed,)
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def downgrade() -> None:
    op.drop_index("uq_invoice_company_period", table_name="invoice")
    op.drop_index("ix_invoice_company_id", table_name="invoice")
    if op.get_bind().dialect.name == "sqlite":
        # The columns stay on SQLite (empty once no company is billed), as in 0014.
        op.execute("DROP TRIGGER invoice_one_payer")
    else:
        op.drop_constraint("ck_invoice_one_payer", "invoice", type_="check")
        op.alter_column("invoice", "account_id", existing_type=sa.Integer(), nullable=False)
        op.drop_constraint("fk_invoice_line_member_account_id", "invoice_line", "foreignkey")
        op.drop_column("invoice_line", "member_account_id")
        op.drop_constraint("fk_invoice_company_id", "invoice", "foreignkey")
        op.drop_column("invoice", "company_id")
        op.drop_column("account", "bills_to_company")
    op.drop_index("ix_rental_contract_resource_id", table_name="rental_contract")
    op.drop_table("rental_contract")
