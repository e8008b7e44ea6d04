"""report covering indexes: the utilisation report reads its sums from the index alone

The (resource_id, start_at) indexes of reservations and usage sessions grow the columns
the report sums, so that each resource's range of a bucket is read without the table.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

RESERVATION = ["resource_id", "start_at", "end_at", "status"]
USAGE = ["resource_id", "start_at", "end_at", "last_sample_at", "run_seconds", "energy_wh"]


def upgrade() -> None:
    op.drop_index("ix_reservation_resource_span", table_name="reservation")
    op.create_index("ix_reservation_resource_span", "reservation", RESERVATION)
    op.drop_index("ix_usage_session_resource_start", table_name="usage_session")
    op.create_index("ix_usage_session_resource_span", "usage_session", USAGE)


def downgrade() -> None:
    op.drop_index("ix_usage_session_resource_span", table_name="usage_session")
    op.create_index("ix_usage_session_resource_start", "usage_session", ["resource_id", "start_at"])
    op.drop_index("ix_reservation_resource_span", table_name="reservation")
    op.create_index("ix_reservation_resource_span", "reservation", ["resource_id", "start_at"])
