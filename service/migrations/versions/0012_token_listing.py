"""api token kind and label: a person can tell their logins and tokens apart

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Tokens made before this revision cannot be told apart: they are listed as API tokens.
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=8), nullable=False, server_default="api")
        )
        batch_op.add_column(
            sa.Column("label", sa.String(length=120), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch_op:
        batch_op.drop_column("label")
        batch_op.drop_column("kind")
