"""Administering people: roles, the site an operator runs, passwords, tokens, deactivation.

Admins manage every account. An operator manages makers only, and may make no one
staff. Deactivating an account closes every way in at once: its API tokens (and with
them its page logins, which are tokens kept in the session cookie) and its calendar feed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from ..errors import Conflict, Forbidden, NotFound, RuleViolation
from ..models import Account, ApiToken, Company, Role, RoleName, Site
from ..models.admin import AccountCreate, AccountUpdate, PasswordReset
from .accounts import Principal, check_credentials, hash_password
from .audit import record


@dataclass(frozen=True)
class Person:
    """An account with its role and, for an operator, the site."""

    account: Account
    role: RoleName
    site_id: int | None


def require_staff(actor: Principal) -> None:
    if not actor.is_staff:
        raise Forbidden("only operators and admins administer")


def list_people(*, session: Session, actor: Principal) -> list[Person]:
    """The accounts `actor` may manage, by name: admins see everyone, operators makers."""
    require_staff(actor)
    people = [
        _person(session, a) for a in session.exec(select(Account).order_by(col(Account.name)))
    ]
    return [p for p in people if actor.admin or p.role == RoleName.maker]


def load_person(*, session: Session, actor: Principal, account_id: int) -> Person:
    """One account `actor` may manage; another's is Forbidden, an unknown one NotFound."""
    require_staff(actor)
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}")
    person = _person(session, account)
    if not actor.admin and person.role != RoleName.maker:
        raise Forbidden("operators manage makers' accounts only")
    return person


def _person(session: Session, account: Account) -> Person:
    roles = session.exec(select(Role).where(Role.account_id == account.id)).all()
    # The strongest grant names the person; an account holds one in practice.
    for name in (RoleName.admin, RoleName.operator):
        for role in roles:
            if role.role == name:
                return Person(account, name, role.site_id)
    return Person(account, RoleName.maker, None)


def _check_role(session: Session, actor: Principal, role: RoleName, site_id: int | None) -> None:
    if role != RoleName.maker and not actor.admin:
        raise Forbidden("only admins make operators and admins")
    if role == RoleName.operator:
        if site_id is None:
            raise RuleViolation("an operator needs a site", code="site_required")
        if session.get(Site, site_id) is None:
            raise RuleViolation(f"no site {site_id}", code="unknown_site")


def _new_password() -> str:
    return secrets.token_urlsafe(12)


def create_person(
    *, session: Session, now: datetime, actor: Principal, body: AccountCreate
) -> tuple[Person, str | None]:
    """Create an account with one role; returns it and the made-up password, if any."""
    require_staff(actor)
    _check_role(session, actor, body.role, body.site_id)
    if session.exec(select(Account.id).where(Account.email == body.email)).first() is not None:
        raise Conflict(f"an account with e-mail {body.email} exists", code="email_taken")
    made_up = None if body.password else _new_password()
    account = Account(
        email=body.email,
        name=body.name,
        card_uid=body.card_uid or None,
        password_hash=hash_password(body.password or made_up or ""),
    )
    session.add(account)
    _flush(session, "the e-mail or card is already in use")
    site_id = body.site_id if body.role == RoleName.operator else None
    session.add(Role(account_id=account.id or 0, role=body.role, site_id=site_id))
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="account.created",
        subject=f"account:{account.id}",
        email=body.email,
        role=body.role.value,
        site_id=site_id,
    )
    return Person(account, body.role, site_id), made_up


def update_person(
    *, session: Session, now: datetime, actor: Principal, account_id: int, body: AccountUpdate
) -> Person:
    """Change name, role, site, card, company or active; deactivating closes every way in."""
    person = load_person(session=session, actor=actor, account_id=account_id)
    account = person.account
    changes = body.model_dump(exclude_unset=True, mode="json")
    role = body.role if body.role is not None else person.role
    site_id = body.site_id if "site_id" in changes else person.site_id
    if account.id == actor.id and (role != person.role or body.active is False):
        raise Conflict("you cannot demote or deactivate yourself", code="own_account")
    if role != person.role or (role == RoleName.operator and site_id != person.site_id):
        _check_role(session, actor, role, site_id)
        session.exec(delete(Role).where(col(Role.account_id) == account.id))
        kept_site = site_id if role == RoleName.operator else None
        session.add(Role(account_id=account.id or 0, role=role, site_id=kept_site))
        person = Person(account, role, kept_site)
    if body.name is not None:
        account.name = body.name
    if "card_uid" in changes:
        account.card_uid = body.card_uid or None
    _set_company(session, actor, account, changes)
    closed = body.active is False and account.active
    if body.active is not None:
        account.active = body.active
    session.add(account)
    _flush(session, "the card is already in use")
    if closed:
        _close_doors(session, account)
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="account.deactivated" if closed else "account.updated",
        subject=f"account:{account.id}",
        **changes,
    )
    return person


def _set_company(
    session: Session, actor: Principal, account: Account, changes: dict[str, Any]
) -> None:
    """The person's company and whether their usage is billed to it (it must then have one).

    Who pays is billing, an administrator's decision.
    """
    if {"company_id", "bills_to_company"} & changes.keys() and not actor.admin:
        raise Forbidden("only admins change who pays")
    if "company_id" in changes:
        company_id = changes["company_id"]
        if company_id is not None and session.get(Company, company_id) is None:
            raise RuleViolation(
                f"no company {company_id}",
                code="unknown_company",
                details={"field": "company_id"},
            )
        account.company_id = company_id
    if changes.get("bills_to_company") is not None:
        account.bills_to_company = bool(changes["bills_to_company"])
    if account.bills_to_company and account.company_id is None:
        raise RuleViolation(
            "only a person of a company can bill to it",
            code="no_company",
            details={"field": "bills_to_company"},
        )


def _close_doors(session: Session, account: Account) -> int:
    """Revoke every token (API and page logins) and replace the calendar secret."""
    account.ical_secret = secrets.token_urlsafe(24)
    session.add(account)
    result = session.exec(
        update(ApiToken)
        .where(col(ApiToken.account_id) == account.id, col(ApiToken.revoked).is_(False))
        .values(revoked=True)
    )
    return int(result.rowcount or 0)


def revoke_tokens(*, session: Session, now: datetime, actor: Principal, account_id: int) -> int:
    """Log the person out everywhere: every API token and page login stops working."""
    person = load_person(session=session, actor=actor, account_id=account_id)
    result = session.exec(
        update(ApiToken)
        .where(col(ApiToken.account_id) == account_id, col(ApiToken.revoked).is_(False))
        .values(revoked=True)
    )
    count = int(result.rowcount or 0)
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="account.tokens_revoked",
        subject=f"account:{person.account.id}",
        count=count,
    )
    return count


def reset_password(
    *, session: Session, now: datetime, actor: Principal, account_id: int, body: PasswordReset
) -> str | None:
    """Set a new password (the one given, else a made-up one, returned to show once).

    The old logins end with the old password.
    """
    person = load_person(session=session, actor=actor, account_id=account_id)
    if body.password:
        check_credentials(email=person.account.email, password=body.password)
    made_up = None if body.password else _new_password()
    person.account.password_hash = hash_password(body.password or made_up or "")
    session.add(person.account)
    session.exec(
        update(ApiToken)
        .where(col(ApiToken.account_id) == account_id, col(ApiToken.revoked).is_(False))
        .values(revoked=True)
    )
    # Neither password nor hash goes to the log.
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="account.password_reset",
        subject=f"account:{account_id}",
        made_up=made_up is not None,
    )
    return made_up


def _flush(session: Session, message: str) -> None:
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(message, code="taken") from None


def list_companies(*, session: Session) -> list[Company]:
    """Every company, by name: whom a person may belong to and bill to."""
    return list(session.exec(select(Company).order_by(col(Company.name))))
