"""resource pricing: a resource's plan and hourly rate are dated

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30

`resource_pricing` holds how a resource is charged from a day of the billing zone
(included) to another (excluded, or open): its rate plan, or none and its hourly
rate. Every resource gets one open version from 2000-01-01 with its current plan
and rate. `resource.rate_plan_id` and `resource.rate_per_hour` stay as mirrors of
the latest version.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resource_pricing",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("resource_id", sa.Integer(), sa.ForeignKey("resource.id"), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("rate_plan_id", sa.Integer(), sa.ForeignKey("rate_plan.id"), nullable=True),
        sa.Column("rate_per_hour", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("resource_id", "valid_from"),
    )
    op.create_index("ix_resource_pricing_resource_id", "resource_pricing", ["resource_id"])
    op.execute(
        "INSERT INTO resource_pricing (resource_id, valid_from, rate_plan_id, rate_per_hour, "
        "created_at) SELECT id, DATE '2000-01-01', rate_plan_id, rate_per_hour, "
        "CURRENT_TIMESTAMP FROM resource"
        if op.get_bind().dialect.name == "postgresql"
        else "INSERT INTO resource_pricing (resource_id, valid_from, rate_plan_id, "
        "rate_per_hour, created_at) SELECT id, '2000-01-01', rate_plan_id, rate_per_hour, "
        "strftime('%Y-%m-%d %H:%M:%f', 'now') FROM resource"
    )


def downgrade() -> None:
    op.drop_table("resource_pricing")
