"""alert handling: who acknowledged and resolved an alert, with notes; grouped alerts

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: in place on SQLite and PostgreSQL, no table rebuild (a rebuild
    # would have to carry the partial unique index of open alerts over by hand).
    op.add_column(
        "alert", sa.Column("ack_note", sa.String(length=500), nullable=False, server_default="")
    )
    op.add_column(
        "alert", sa.Column("close_note", sa.String(length=500), nullable=False, server_default="")
    )
    op.add_column("alert", sa.Column("count", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("alert", sa.Column("last_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "alert", sa.Column("recent", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite takes a reference in ADD COLUMN, but not ALTER ... ADD CONSTRAINT.
        op.execute("ALTER TABLE alert ADD COLUMN closed_by INTEGER REFERENCES account (id)")
    else:
        op.add_column("alert", sa.Column("closed_by", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_alert_closed_by", "alert", "account", ["closed_by"], ["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_alert_closed_by", "alert", type_="foreignkey")
    for column in ("closed_by", "recent", "last_at", "count", "close_note", "ack_note"):
        op.drop_column("alert", column)
