"""Logging in with a bounded number of wrong passwords, every refusal in the audit log.

After FAILURES wrong passwords for one e-mail within WINDOW, that e-mail is locked for
LOCK: even the right password is refused until then. The count is read from the audit
log's `login.failed` rows, so every web process agrees on it; a successful login starts
the count again. An e-mail without an account is counted the same way, so that a lock
tells nothing about which e-mails have accounts.

The refusal's audit entry is flushed in the caller's transaction: the caller commits it
before answering, although the login failed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from ..errors import TooManyRequests, Unauthorized
from ..models import Account, AuditLog
from .accounts import authenticate
from .audit import record

FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)

FAILED = "login.failed"
LOCKED = "login.locked"
SUCCEEDED = "login.succeeded"


def log_in(
    *, session: Session, now: datetime, email: str, password: str, address: str | None
) -> Account:
    """The account with this e-mail and password, unless the e-mail is locked.

    Unauthorized for a wrong e-mail or password, TooManyRequests while locked; both
    audited with the e-mail tried and the client's address (never the password).
    """
    tried = email.strip().lower()[:254]
    account = session.exec(select(Account).where(Account.email == tried)).first()
    subject = login_subject(tried, account)
    actor_id = account.id if account is not None else None
    until = locked_until(session=session, now=now, subject=subject)
    if until is not None:
        record(
            session=session,
            now=now,
            actor_id=actor_id,
            action=LOCKED,
            subject=subject,
            email=tried,
            address=address,
            until=until.isoformat(),
        )
        session.flush()
        retry = max(1, int((until - now).total_seconds()) + 1)
        raise TooManyRequests(
            "too many failed logins; try again later", details={"retry_after_s": retry}
        )
    try:
        account = authenticate(session=session, email=tried, password=password)
    except Unauthorized:
        record(
            session=session,
            now=now,
            actor_id=actor_id,
            action=FAILED,
            subject=subject,
            email=tried,
            address=address,
        )
        session.flush()
        raise
    record(
        session=session,
        now=now,
        actor_id=actor_id,
        action=SUCCEEDED,
        subject=subject,
        address=address,
    )
    return account


def login_subject(email: str, account: Account | None) -> str:
    """Whose logins an audit row counts: the account, else a digest of the e-mail tried."""
    if account is not None:
        return f"account:{account.id}"
    # An e-mail may be longer than the subject column; its digest is not.
    return "email:" + hashlib.sha256(email.encode()).hexdigest()[:48]


def locked_until(*, session: Session, now: datetime, subject: str) -> datetime | None:
    """When the lock on `subject`'s logins ends, or None if it may log in now.

    Locked LOCK after the FAILURES-th failure within WINDOW, counting failures since the
    last successful login only.
    """
    rows = session.exec(
        select(AuditLog.at, AuditLog.action)
        .where(
            col(AuditLog.at) > now - WINDOW - LOCK,
            col(AuditLog.at) <= now,
            AuditLog.subject == subject,
            col(AuditLog.action).in_((FAILED, SUCCEEDED)),
        )
        .order_by(col(AuditLog.at), col(AuditLog.id))
    ).all()
    failures: list[datetime] = []
    until = None
    for at, action in rows:
        if action == SUCCEEDED:
            failures = []
            until = None
            continue
        failures.append(at)
        if len(failures) >= FAILURES and at - failures[-FAILURES] <= WINDOW:
            until = at + LOCK
    return until if until is not None and until > now else None
