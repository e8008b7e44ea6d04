"""billing adjustments: a line may correct a month already issued

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30

Usage or bookings that change a month after it was issued are billed on the
account's next invoice as adjustment lines; each names the month it corrects.
A plain ADD COLUMN keeps the ledger-guard triggers of invoice_line in place.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("invoice_line", sa.Column("adjusts_period", sa.String(length=7), nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place, keeping the triggers (a batch copy would not).
    op.drop_column("invoice_line", "adjusts_period")
