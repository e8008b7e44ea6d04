"""People, their companies, roles, trainings and API tokens."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from .types import UTCDateTime


class Company(SQLModel, table=True):
    """A small manufacturer (소공인) whose people book under one bill."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    business_number: str = Field(default="", max_length=20)
    trade: str = Field(default="", max_length=64)
    # What a tax invoice names besides the number: 대표자 and 사업장 주소.
    representative: str = Field(default="", max_length=100)
    address: str = Field(default="", max_length=300)
    # Where its tax invoices go (the e-tax export's customer e-mail).
    email: str = Field(default="", max_length=254)


class AccountBase(SQLModel):
    email: str = Field(index=True, unique=True, max_length=254)
    name: str = Field(max_length=200)
    company_id: int | None = Field(default=None, foreign_key="company.id")
    card_uid: str | None = Field(default=None, index=True, unique=True, max_length=32)


class Account(AccountBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(default="", max_length=300)
    active: bool = True
    ical_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(24), index=True)
    # Memberships are dated rows of `account_membership` (models/prices.py); the old
    # `membership_plan_id` column stays in the table, unused, until it is dropped.
    # The language the person chose for the pages ("ko", "en"); None: the site's default.
    locale: str | None = Field(default=None, max_length=8)
    # What this person owes goes on their company's invoice, in a section of their own.
    bills_to_company: bool = False


class AccountPublic(AccountBase):
    id: int


class RoleName(StrEnum):
    maker = "maker"
    operator = "operator"
    admin = "admin"


class Role(SQLModel, table=True):
    """A grant: admin everywhere, operator of one site, or maker."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    role: RoleName
    site_id: int | None = Field(default=None, foreign_key="site.id")


class Training(SQLModel, table=True):
    """An account may use machines of `category` until `expires_on` (inclusive)."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    category: str = Field(max_length=64)
    expires_on: date | None = None


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    # Only the SHA-256 of the token is kept.
    token_hash: str = Field(index=True, unique=True, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked: bool = False
    # "page" (a browser's login) or "api" (a bearer token asked for with a password).
    kind: str = Field(default="api", max_length=8)
    # Which program asked for it (browser and system), so its owner can tell tokens apart.
    label: str = Field(default="", max_length=120)
