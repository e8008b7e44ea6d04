"""Accounts, passwords, API tokens and who may act where."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic_core import PydanticCustomError
from sqlalchemy import bindparam
from sqlmodel import Session, col, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import BadRequest, Conflict, NotFound, Unauthorized
from ..models import Account, ApiToken, Role, RoleName, Site, credentials
from .audit import record

# A hash to compare against when the e-mail is unknown, so that both paths cost the same.
_DUMMY_HASH = generate_password_hash("smartfab-dummy-password")


@dataclass(frozen=True)
class Principal:
    """The caller: an account with the roles it holds."""

    id: int
    admin: bool = False
    operator_sites: frozenset[int] = field(default_factory=frozenset)

    def operates(self, site_id: int) -> bool:
        return self.admin or site_id in self.operator_sites

    @property
    def is_staff(self) -> bool:
        return self.admin or bool(self.operator_sites)


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def principal_for(*, session: Session, account: Account) -> Principal:
    roles = session.exec(select(Role.role, Role.site_id).where(Role.account_id == account.id))
    return _principal(account.id or 0, roles.all())


def _principal(account_id: int, roles: Sequence[tuple[str, int | None]]) -> Principal:
    return Principal(
        id=account_id,
        admin=any(role == RoleName.admin for role, _ in roles),
        operator_sites=frozenset(
            site_id for role, site_id in roles if role == RoleName.operator and site_id is not None
        ),
    )


def authenticate(*, session: Session, email: str, password: str) -> Account:
    """The active account with this e-mail and password, else Unauthorized."""
    account = session.exec(select(Account).where(Account.email == email.strip().lower())).first()
    if account is None or not account.active:
        check_password_hash(_DUMMY_HASH, password)
        raise Unauthorized("wrong e-mail or password")
    if not check_password_hash(account.password_hash, password):
        raise Unauthorized("wrong e-mail or password")
    return account


def token_digest(token: str) -> str:
    """What is stored of a token: its SHA-256, so a copy of the database opens nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    *,
    session: Session,
    now: datetime,
    account: Account,
    ttl_days: int,
    kind: str = "api",
    label: str = "",
) -> str:
    """A new bearer token for `account`: a "page" login or an "api" token; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            account_id=account.id or 0,
            token_hash=token_digest(token),
            created_at=now,
            expires_at=now + timedelta(days=ttl_days),
            kind=kind,
            label=label[:120],
        )
    )
    return token


# Every API request runs this; built once, read as plain columns.
_TOKEN = (
    select(  # type: ignore[call-overload]  # sqlmodel types at most 4 columns
        col(ApiToken.revoked),
        col(ApiToken.expires_at),
        col(Account.id),
        col(Account.active),
        col(Role.role),
        col(Role.site_id),
    )
    .join(Account, col(Account.id) == col(ApiToken.account_id))
    .outerjoin(Role, col(Role.account_id) == col(Account.id))
    .where(col(ApiToken.token_hash) == bindparam("token_hash"))
)


def principal_for_token(*, session: Session, now: datetime, token: str) -> Principal:
    """The caller a bearer token names, with its roles, in one query; else Unauthorized."""
    rows = session.connection().execute(_TOKEN, {"token_hash": token_digest(token)}).all()
    if not rows:
        raise Unauthorized("unknown token")
    revoked, expires_at, account_id, active, _, _ = rows[0]
    if revoked or expires_at <= now or not active:
        raise Unauthorized("token expired or revoked")
    return _principal(account_id, [(r.role, r.site_id) for r in rows if r.role is not None])


def check_credentials(*, email: str, password: str) -> tuple[str, str]:
    """The e-mail as stored and the password, if both pass the policy; else BadRequest."""
    try:
        email = credentials.email_address(email)
        return email, credentials.password(password, email=email)
    except PydanticCustomError as exc:
        raise BadRequest(
            f"{exc.message()}: {email!r}" if exc.type == "email" else exc.message(), code=exc.type
        ) from None


def create_account(
    *,
    session: Session,
    email: str,
    password: str,
    name: str,
    role: RoleName = RoleName.maker,
    site_slug: str | None = None,
    company_id: int | None = None,
    card_uid: str | None = None,
) -> Account:
    """Create an account with one role; operators need a site."""
    email, password = check_credentials(email=email, password=password)
    if session.exec(select(Account).where(Account.email == email)).first() is not None:
        raise Conflict(f"an account with e-mail {email} exists")
    site_id = None
    if role == RoleName.operator:
        if not site_slug:
            raise BadRequest("an operator needs --site")
        site = session.exec(select(Site).where(Site.slug == site_slug)).first()
        if site is None:
            raise BadRequest(f"unknown site {site_slug!r}")
        site_id = site.id
    account = Account(
        email=email,
        name=name,
        password_hash=hash_password(password),
        company_id=company_id,
        card_uid=card_uid,
    )
    session.add(account)
    session.flush()
    session.add(Role(account_id=account.id or 0, role=role, site_id=site_id))
    return account


def revoke_token(*, session: Session, token: str) -> None:
    """Make a bearer token (or a page login's token) useless from now on."""
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == token_digest(token))).first()
    if row is not None and not row.revoked:
        row.revoked = True
        session.add(row)


def set_locale(*, session: Session, account_id: int, locale: str | None) -> None:
    """Remember the language an account chose for the pages (None: the site's default)."""
    account = session.get(Account, account_id)
    if account is not None:
        account.locale = locale
        session.add(account)


def reset_ical_secret(*, session: Session, now: datetime, account_id: int) -> str:
    """Give the account a new iCalendar secret: the old feed URL stops working at once."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}")
    account.ical_secret = secrets.token_urlsafe(24)
    session.add(account)
    # The secret itself stays out of the log: it is as good as a password to the feed.
    record(
        session=session,
        now=now,
        actor_id=account_id,
        action="account.ical_reset",
        subject=f"account:{account_id}",
    )
    return account.ical_secret


def account_names(*, session: Session, account_ids: set[int]) -> dict[int, str]:
    """The names of these accounts, by id (for staff reading other people's papers)."""
    if not account_ids:
        return {}
    rows = session.exec(select(Account.id, Account.name).where(col(Account.id).in_(account_ids)))
    return {account_id: name for account_id, name in rows if account_id is not None}
