"""Rental contracts: a room let to a company or a person for a span of days at a monthly fee."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict
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


FEE = "won per whole month, VAT included; a part month is prorated by day"


class RentalContractCreate(BaseModel):
    """What an admin gives to let a room (the API's body and the admin page's form)."""

    model_config = ConfigDict(extra="forbid")

    resource_id: int = Field(gt=0, le=2_147_483_647, description="the room let")
    company_id: int | None = Field(default=None, gt=0, le=2_147_483_647, description="or")
    account_id: int | None = Field(default=None, gt=0, le=2_147_483_647)
    start_date: date = Field(description="first day, in the site's calendar")
    end_date: date | None = Field(default=None, description="last day (inclusive); none: open")
    monthly_fee: int = Field(ge=0, le=1_000_000_000, description=FEE)


class RentalContractUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    end_date: date | None = Field(default=None, description="last day; null: open-ended")
    monthly_fee: int | None = Field(default=None, ge=0, le=1_000_000_000, description=FEE)
