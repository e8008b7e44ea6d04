"""invoice payments (append-only) and the company's representative and address

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

REFUSAL = "recorded payments are not changed; record a correcting payment instead"


def upgrade() -> None:
    op.create_table(
        "invoice_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount_won", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("invoice_payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoice_payment_invoice_id"), ["invoice_id"])
    # Plain ADD COLUMN on both databases: a batch copy of `company` is not needed.
    for column, length in (("representative", 100), ("address", 300)):
        op.add_column(
            "company",
            sa.Column(column, sa.String(length=length), nullable=False, server_default=""),
        )
    _append_only()


def _append_only() -> None:
    """The database refuses to change or delete a recorded payment."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION payment_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSAL}' "
            "USING ERRCODE = 'integrity_constraint_violation'; END $$"
        )
        op.execute(
            "CREATE TRIGGER invoice_payment_append_only BEFORE UPDATE OR DELETE "
            "ON invoice_payment FOR EACH ROW EXECUTE FUNCTION payment_refuse_change()"
        )
        return
    for event in ("update", "delete"):
        op.execute(
            f"CREATE TRIGGER invoice_payment_no_{event} BEFORE {event.upper()} "
            f"ON invoice_payment BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER invoice_payment_append_only ON invoice_payment")
        op.execute("DROP FUNCTION payment_refuse_change()")
    else:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER invoice_payment_no_{event}")
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.drop_column("address")
        batch_op.drop_column("representative")
    with op.batch_alter_table("invoice_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_payment_invoice_id"))
    op.drop_table("invoice_payment")
