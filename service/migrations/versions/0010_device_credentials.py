"""device credentials: the MQTT password kept only as a hash, and revocation

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

from service.rules.device_credentials import hash_password

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "device",
        sa.Column("password_hash", sa.String(length=255), nullable=False, server_default=""),
    )
    op.add_column("device", sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    # Devices keep the password they were given; only its hash stays.
    device = sa.table(
        "device",
        sa.column("id", sa.Integer),
        sa.column("secret", sa.String),
        sa.column("password_hash", sa.String),
    )
    connection = op.get_bind()
    for device_id, secret in connection.execute(sa.select(device.c.id, device.c.secret)).all():
        connection.execute(
            device.update()
            .where(device.c.id == device_id)
            .values(password_hash=hash_password(secret) if secret else "")
        )
    with op.batch_alter_table("device") as batch_op:
        batch_op.drop_column("secret")


def downgrade() -> None:
    # A hash cannot be turned back into a password: every device gets a new, unknown one.
    op.add_column("device", sa.Column("secret", sa.String(length=64), nullable=True))
    device = sa.table("device", sa.column("id", sa.Integer), sa.column("secret", sa.String))
    connection = op.get_bind()
    for (device_id,) in connection.execute(sa.select(device.c.id)).all():
        connection.execute(
            device.update().where(device.c.id == device_id).values(secret=secrets.token_urlsafe(24))
        )
    with op.batch_alter_table("device") as batch_op:
        batch_op.alter_column("secret", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("password_hash")
