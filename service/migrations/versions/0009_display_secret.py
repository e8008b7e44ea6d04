"""resource display secret: the no-login URL of the tablet beside a machine or room

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("resource", sa.Column("display_secret", sa.String(length=64), nullable=True))
    # Each existing resource gets its own secret before the column may be NOT NULL.
    resource = sa.table("resource", sa.column("id", sa.Integer), sa.column("display_secret"))
    connection = op.get_bind()
    for (resource_id,) in connection.execute(sa.select(resource.c.id)).all():
        connection.execute(
            resource.update()
            .where(resource.c.id == resource_id)
            .values(display_secret=secrets.token_urlsafe(18))
        )
    with op.batch_alter_table("resource") as batch_op:
        batch_op.alter_column("display_secret", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint("uq_resource_display_secret", ["display_secret"])


def downgrade() -> None:
    with op.batch_alter_table("resource") as batch_op:
        batch_op.drop_constraint("uq_resource_display_secret", type_="unique")
        batch_op.drop_column("display_secret")
