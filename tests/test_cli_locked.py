"""CLI commands wait for a writer (e.g. the listener) holding SQLite's write lock, then succeed."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from click.testing import CliRunner
from sqlmodel import Session, select

from service.cli import cli
from service.db import make_engine
from service.migrate import upgrade
from service.models import Account, Site

HOLD = 1.0


def run(url: str, *args: str):
    return CliRunner().invoke(
        cli, list(args), env={"SMARTFAB_DATABASE__URL": url}, catch_exceptions=False
    )


@contextmanager
def writer_holding_the_lock(path: str, *, batches: int = 1) -> Iterator[None]:
    """Another connection writes for ~HOLD seconds, in `batches` transactions, as a listener does.

    The block runs while the first transaction holds the lock.
    """
    locked = threading.Event()
    failed: list[BaseException] = []

    def write() -> None:
        try:
            conn = sqlite3.connect(path, isolation_level=None, timeout=30)
            for batch in range(batches):
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "INSERT INTO site (slug, name, name_en, timezone, address, "
                    "machine_quota_hours, room_quota_hours) "
                    "VALUES (?, 'x', '', 'Asia/Seoul', '', 10, 10)",
                    (f"busy-{batch}",),
                )
                locked.set()
                time.sleep(HOLD / batches)
                conn.execute("COMMIT")
            conn.close()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            failed.append(exc)
            locked.set()

    thread = threading.Thread(target=write)
    thread.start()
    assert locked.wait(10)
    try:
        yield
    finally:
        thread.join(30)
    assert not failed, failed


def fresh(tmp_path) -> tuple[str, str]:
    path = str(tmp_path / "locked.db")
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return path, url


def test_users_create_waits_for_the_write_lock(tmp_path):
    path, url = fresh(tmp_path)
    started = time.monotonic()
    with writer_holding_the_lock(path):
        result = run(
            url, "users", "create", "--email", "a@example.com", "--password", "long enough"
        )
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= HOLD * 0.9
    with Session(make_engine(url)) as session:
        assert session.exec(select(Account.email)).all() == ["a@example.com"]


def test_users_create_survives_a_writer_committing_in_batches(tmp_path):
    path, url = fresh(tmp_path)
    with writer_holding_the_lock(path, batches=5):
        result = run(
            url, "users", "create", "--email", "b@example.com", "--password", "long enough"
        )
    assert result.exit_code == 0, result.output


def test_seed_waits_for_the_write_lock(tmp_path):
    path, url = fresh(tmp_path)
    with writer_holding_the_lock(path, batches=3):
        result = run(url, "seed", "--demo")
    assert result.exit_code == 0, result.output
    with Session(make_engine(url)) as session:
        slugs = set(session.exec(select(Site.slug)).all())
    assert {"busy-0", "busy-1", "busy-2"} <= slugs
    assert len(slugs) > 3


def test_invoices_issue_waits_for_the_write_lock(tmp_path):
    path, url = fresh(tmp_path)
    with writer_holding_the_lock(path, batches=3):
        result = run(url, "invoices", "issue", "--period", "2026-02")
    assert result.exit_code == 0, result.output
    assert "0 invoice(s) issued" in result.output


def test_db_upgrade_waits_for_the_write_lock(tmp_path):
    path = str(tmp_path / "older.db")
    url = f"sqlite:///{path}"
    assert run(url, "db", "upgrade", "--revision", "0005").exit_code == 0
    with writer_holding_the_lock(path, batches=3):
        result = run(url, "db", "upgrade")
    assert result.exit_code == 0, result.output
