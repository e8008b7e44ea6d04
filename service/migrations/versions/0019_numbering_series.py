"""numbering series: the invoice counter counts per series and billed year

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30

Invoice numbers carry the billed month and count per billed year; credit notes
have their own series. The counter's key grows from (year) to (series, year);
the rows already there are the invoice series' and keep their last number, so
numbers stay unique and only move forward. The forward-only guard now also
refuses a change of series.
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

FORWARD = "invoice numbers only move forward"
MOVED = "NEW.last < OLD.last OR NEW.year <> OLD.year OR NEW.series <> OLD.series"
OLD_MOVED = "NEW.last < OLD.last OR NEW.year <> OLD.year"


def _sqlite_rebuild(series: bool, moved: str) -> None:
    # SQLite changes no primary key in place: copy the table (its triggers go with it).
    key = "series, year" if series else "year"
    column = "series VARCHAR(16) NOT NULL DEFAULT 'invoice', " if series else ""
    source = "'invoice', year, last" if series else "year, last"
    target = "series, year, last" if series else "year, last"
    keep = "" if series else " WHERE series = 'invoice'"
    op.execute(
        f"CREATE TABLE invoice_counter_new ({column}year INTEGER NOT NULL, "
        f"last INTEGER NOT NULL, PRIMARY KEY ({key}))"
    )
    op.execute(
        f"INSERT INTO invoice_counter_new ({target}) "  # noqa: S608 - fixed text only
        f"SELECT {source} FROM invoice_counter{keep}"
    )
    op.execute("DROP TABLE invoice_counter")
    op.execute("ALTER TABLE invoice_counter_new RENAME TO invoice_counter")
    for name, when, condition in (
        ("invoice_counter_forward", "UPDATE", moved),
        ("invoice_counter_no_delete", "DELETE", "1"),
    ):
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {when} ON invoice_counter WHEN {condition} "
            f"BEGIN SELECT RAISE(ABORT, '{FORWARD} (invoice_counter)'); END"
        )


def _postgresql_guard(moved: str) -> None:
    op.execute(
        "CREATE OR REPLACE FUNCTION invoice_counter_forward() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'DELETE' OR {moved} THEN "
        f"RAISE EXCEPTION '{FORWARD} (invoice_counter)' "
        "USING ERRCODE = 'integrity_constraint_violation'; END IF; "
        "RETURN NEW; END $$"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild(series=True, moved=MOVED)
        return
    op.execute(
        "ALTER TABLE invoice_counter ADD COLUMN series VARCHAR(16) NOT NULL DEFAULT 'invoice'"
    )
    op.execute("ALTER TABLE invoice_counter DROP CONSTRAINT invoice_counter_pkey")
    op.execute("ALTER TABLE invoice_counter ADD PRIMARY KEY (series, year)")
    _postgresql_guard(MOVED)


def downgrade() -> None:
    # The credit-note series has no place in a counter keyed by year alone: it goes.
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rebuild(series=False, moved=OLD_MOVED)
        return
    op.execute("ALTER TABLE invoice_counter DISABLE TRIGGER invoice_counter_forward")
    op.execute("DELETE FROM invoice_counter WHERE series <> 'invoice'")
    op.execute("ALTER TABLE invoice_counter ENABLE TRIGGER invoice_counter_forward")
    op.execute("ALTER TABLE invoice_counter DROP CONSTRAINT invoice_counter_pkey")
    op.execute("ALTER TABLE invoice_counter DROP COLUMN series")
    op.execute("ALTER TABLE invoice_counter ADD PRIMARY KEY (year)")
    _postgresql_guard(OLD_MOVED)
