"""Running the Alembic migrations from code and from the CLI."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from .db import IMMEDIATE

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database behind `engine` to `revision`."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    # The write lock first on SQLite (BEGIN IMMEDIATE): a writer busy meanwhile, such as
    # the listener, is waited for, rather than failing the upgrade as "database is locked".
    with engine.execution_options(**IMMEDIATE).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
