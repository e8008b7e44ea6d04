"""A person's page logins and API tokens: which are live, and ending one of them.

A token itself is never kept (only its hash, see `accounts.issue_token`), so a listing
names each by its id, kind, the program that asked for it and its dates; the caller's
own token is recognised by hashing the one it came with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from ..errors import NotFound
from ..models import ApiToken
from .accounts import Principal, token_digest
from .audit import record

# Browsers name several engines in their User-Agent; the first of these found names it.
_BROWSERS = (
    ("Edg/", "Edge"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Whale/", "Whale"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)
_PRINTABLE = re.compile(r"[^\x20-\x7e]")


@dataclass(frozen=True)
class TokenEntry:
    """One live token as its owner sees it; `current` if the caller is using it now."""

    id: int
    kind: str
    label: str
    created_at: datetime
    expires_at: datetime
    current: bool


def client_label(user_agent: str | None) -> str:
    """A short name for the program behind a User-Agent ("Chrome · Android", "curl/8.5")."""
    agent = _PRINTABLE.sub("", user_agent or "").strip()
    if not agent:
        return ""
    browser = next((name for mark, name in _BROWSERS if mark in agent), None)
    if browser is None:
        # Scripts send their own short name: keep its first word.
        return agent.split()[0][:60]
    system = next((name for mark, name in _SYSTEMS if mark in agent), None)
    return f"{browser} · {system}" if system else browser


def list_tokens(
    *, session: Session, now: datetime, account_id: int, current: str | None
) -> list[TokenEntry]:
    """The account's tokens that still open something, newest first."""
    mine = token_digest(current) if current else None
    rows = session.exec(
        select(ApiToken)
        .where(
            ApiToken.account_id == account_id,
            col(ApiToken.revoked).is_(False),
            col(ApiToken.expires_at) > now,
        )
        .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
    ).all()
    return [
        TokenEntry(
            id=row.id or 0,
            kind=row.kind,
            label=row.label,
            created_at=row.created_at,
            expires_at=row.expires_at,
            current=row.token_hash == mine,
        )
        for row in rows
    ]


def revoke_token_by_id(
    *, session: Session, now: datetime, actor: Principal, token_id: int
) -> ApiToken:
    """End one token: the caller's own, or anyone's for an admin; else NotFound.

    Others' tokens are answered as missing, so their ids tell nobody anything.
    """
    token = session.get(ApiToken, token_id)
    if token is None or (token.account_id != actor.id and not actor.admin):
        raise NotFound(f"no token {token_id}")
    if not token.revoked:
        token.revoked = True
        session.add(token)
        record(
            session=session,
            now=now,
            actor_id=actor.id,
            action="token.revoked",
            subject=f"account:{token.account_id}",
            token_id=token_id,
            kind=token.kind,
        )
    return token
