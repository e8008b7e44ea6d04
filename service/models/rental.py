"""Rental contracts: a room let to a company or a person for a span of days at a monthly fee."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime


class RentalContractBase(SQLModel):
    resource_id: int = Field(foreign_key="resource.id", index=True)
    # Exactly one tenant: a company (its people may use the room) or one account.
    company_id: int | None = Field(default=None, foreign_key="company.id")
    account_id: int | None = Field(default=None, foreign_key="account.id")
    # Days of the site's calendar, both inclusive; no end: until ended.
    start_date: date
    end_date: date | None = None
    monthly_fee: int = Field(ge=0, description="won per whole month, VAT included")


class RentalContract(RentalContractBase, table=True):
    __tablename__ = "rental_contract"
    __table_args__ = (
        CheckConstraint(
            "(company_id IS NULL) <> (account_id IS NULL)", name="ck_rental_contract_one_tenant"
        ),
        CheckConstraint(
            "end_date IS NULL OR end_date >= start_date", name="ck_rental_contract_span"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_by: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
