"""price versions: rate and membership plans priced by day, memberships held for spans

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30

A rate plan's and a membership plan's price columns stay as their first terms; a
change of price is a dated version (`rate_plan_price`, `membership_plan_price`),
valid from a day of the billing zone (included) to another (excluded, or open).
An account's membership becomes dated rows of `account_membership`; the single
`account.membership_plan_id` is copied there as held since 2000-01-01 and left in
place, unused (SQLite cannot drop a column that references another table).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

AWARE = sa.DateTime(timezone=True)


def _span() -> list[sa.Column]:
    return [
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "rate_plan_price",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rate_plan_id", sa.Integer(), sa.ForeignKey("rate_plan.id"), nullable=False),
        *_span(),
        sa.Column("price_per_hour", sa.Integer(), nullable=False),
        sa.Column("monthly_price", sa.Integer(), nullable=False),
        sa.Column("no_show_percent", sa.Integer(), nullable=False),
        sa.Column("min_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.UniqueConstraint("rate_plan_id", "valid_from"),
    )
    op.create_index("ix_rate_plan_price_rate_plan_id", "rate_plan_price", ["rate_plan_id"])
    op.create_table(
        "membership_plan_price",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "membership_plan_id",
            sa.Integer(),
            sa.ForeignKey("membership_plan.id"),
            nullable=False,
        ),
        *_span(),
        sa.Column("monthly_fee", sa.Integer(), nullable=False),
        sa.Column("discount_percent", sa.Integer(), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.UniqueConstraint("membership_plan_id", "valid_from"),
    )
    op.create_index(
        "ix_membership_plan_price_membership_plan_id",
        "membership_plan_price",
        ["membership_plan_id"],
    )
    op.create_table(
        "account_membership",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id"), nullable=False),
        sa.Column(
            "membership_plan_id",
            sa.Integer(),
            sa.ForeignKey("membership_plan.id"),
            nullable=False,
        ),
        *_span(),
        sa.Column("created_at", AWARE, nullable=False),
    )
    op.create_index("ix_account_membership_account_id", "account_membership", ["account_id"])
    op.create_index(
        "ix_account_membership_membership_plan_id", "account_membership", ["membership_plan_id"]
    )
    op.execute(
        "INSERT INTO account_membership (account_id, membership_plan_id, valid_from, created_at) "
        "SELECT id, membership_plan_id, DATE '2000-01-01', CURRENT_TIMESTAMP FROM account "
        "WHERE membership_plan_id IS NOT NULL"
        if op.get_bind().dialect.name == "postgresql"
        else "INSERT INTO account_membership (account_id, membership_plan_id, valid_from, "
        "created_at) SELECT id, membership_plan_id, '2000-01-01', "
        "strftime('%Y-%m-%d %H:%M:%f', 'now') FROM account WHERE membership_plan_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("account_membership")
    op.drop_table("membership_plan_price")
    op.drop_table("rate_plan_price")
