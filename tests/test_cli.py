"""The smartfab command: migrations, accounts, and a clear error for bad settings."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner
from sqlalchemy import inspect
from sqlmodel import Session, select

from service.cli import cli
from service.db import make_engine
from service.models import Account, Role, RoleName, Site


def run(url: str, *args: str):
    return CliRunner().invoke(
        cli, list(args), env={"SMARTFAB_DATABASE__URL": url}, catch_exceptions=False
    )


def test_db_upgrade_creates_the_schema(tmp_path):
    url = f"sqlite:///{tmp_path}/fresh.db"
    result = run(url, "db", "upgrade")
    assert result.exit_code == 0, result.output
    tables = set(inspect(make_engine(url)).get_table_names())
    assert {"reservation", "resource", "site", "account", "audit_log"} <= tables


def test_users_create_makes_an_operator_of_a_site(tmp_path):
    url = f"sqlite:///{tmp_path}/fresh.db"
    run(url, "db", "upgrade")
    engine = make_engine(url)
    with Session(engine) as session:
        session.add(Site(slug="mullae", name="문래"))
        session.commit()
    result = run(
        url,
        "users",
        "create",
        "--email",
        "Op@Example.com",
        "--password",
        "long enough",
        "--role",
        "operator",
        "--site",
        "mullae",
    )
    assert result.exit_code == 0, result.output
    with Session(engine) as session:
        account = session.exec(select(Account)).one()
        role = session.exec(select(Role)).one()
    assert account.email == "op@example.com"
    assert role.role == RoleName.operator and role.site_id is not None


def test_users_create_refuses_an_operator_without_a_site(tmp_path):
    url = f"sqlite:///{tmp_path}/fresh.db"
    run(url, "db", "upgrade")
    result = run(
        url,
        "users",
        "create",
        "--email",
        "op@example.com",
        "--password",
        "long enough",
        "--role",
        "operator",
    )
    assert result.exit_code != 0
    assert "--site" in result.output


def test_a_bad_setting_stops_the_command_with_its_name():
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "db", "upgrade"],
        env={"SMARTFAB_DATABASE__URL": "nonsense", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SMARTFAB_DATABASE__URL" in result.stderr
    assert "Traceback" not in result.stderr
