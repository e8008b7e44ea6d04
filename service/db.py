"""Engine and sessions: one session per request, opened lazily."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

# Connection execution option: open the SQLite transaction with BEGIN IMMEDIATE,
# taking the write lock before the booking rules read what they check.
IMMEDIATE = {"smartfab_immediate": True}
# Session.info key: the transaction begun with the write lock, so begin_write is a no-op
# for the rest of that transaction instead of committing it midway.
_WRITE_TRANSACTION = "smartfab_write_transaction"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and explicit BEGIN control."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )
        _sqlite_transactions(engine)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, **kwargs)


def _sqlite_transactions(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN and cannot say IMMEDIATE;
    # take it over (the recipe in SQLAlchemy's SQLite dialect documentation).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # INSERT OR REPLACE deletes the row it replaces; with recursive triggers that
        # deletion fires the DELETE triggers too, so it cannot slip past the ledger guard.
        cursor.execute("PRAGMA recursive_triggers=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("smartfab_immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction holds the write lock on SQLite from the start."""
    with Session(engine, expire_on_commit=False) as session:
        session.connection(execution_options=IMMEDIATE)
        session.info[_WRITE_TRANSACTION] = session.get_transaction()
        yield session


def get_session() -> Session:
    """The request's session, created on first use."""
    if "db_session" not in g:
        g.db_session = Session(current_app.extensions["smartfab.engine"], expire_on_commit=False)
    session: Session = g.db_session
    return session


def commit_request() -> None:
    """Commit the request's unit of work, if it opened a session."""
    session = g.get("db_session")
    if session is not None:
        session.commit()


def close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def check_database(session: Session) -> None:
    """Raise unless the database answers a trivial query."""
    session.connection().exec_driver_sql("SELECT 1")


def init_app(app: Flask, engine: Engine) -> None:
    app.extensions["smartfab.engine"] = engine
    app.teardown_appcontext(close_session)


def begin_write(session: Session) -> None:
    """Start the session's write transaction (BEGIN IMMEDIATE on SQLite).

    On SQLite, reads done earlier in the session (e.g. looking up the caller)
    are committed first, so that the write lock is taken before the rules read
    what they check. Within a transaction that already holds the lock it does
    nothing. PostgreSQL needs no lock: its exclusion constraint decides.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    current = session.get_transaction()
    if current is not None and session.info.get(_WRITE_TRANSACTION) is current:
        return
    if current is not None:
        session.commit()
    session.connection(execution_options=IMMEDIATE)
    session.info[_WRITE_TRANSACTION] = session.get_transaction()
