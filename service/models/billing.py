"""Rate plans, memberships, and the invoices and credit notes issued from them.

Money is integer won, VAT included. An invoice or credit note is written as a
draft, its lines added, and then issued in the same transaction; from then on it
is never changed: the database refuses any change to an issued invoice, any line
added to it, and any change or deletion of a line (triggers in migrations 0004
and 0014). A mistake is corrected by a credit note, after which the account's
month may be invoiced again by an invoice that replaces the credited one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, text
from sqlmodel import Field, SQLModel

from .types import UTCDateTime


class RateBasis(StrEnum):
    run_time = "run_time"  # what the machine really ran (usage sessions)
    booked_time = "booked_time"  # the booked span of the reservation
    monthly = "monthly"  # a flat fee per month the account holds the room


class ChargeUnit(StrEnum):
    """What is rounded up and held to the plan's minimum, for machines on run time."""

    reservation = "reservation"  # the runs within one reservation, summed
    run = "run"  # each run on its own


class RatePlan(SQLModel, table=True):
    """How a resource is charged; resources without one use their `rate_per_hour`."""

    __tablename__ = "rate_plan"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    basis: RateBasis = Field(sa_type=String(16))
    price_per_hour: int = Field(default=0, ge=0)
    monthly_price: int = Field(default=0, ge=0)
    # Share of the booked time charged when the booker does not come.
    no_show_percent: int = Field(default=50, ge=0, le=100)
    # Shortest run charged, e.g. 15: a 3-minute cut costs 15 minutes.
    min_minutes: int = Field(default=0, ge=0)
    # Walk-in runs and late arrivals are one unit each whatever the plan says.
    charge_unit: ChargeUnit = Field(default=ChargeUnit.reservation, sa_type=String(16))


class MembershipPlan(SQLModel, table=True):
    """A monthly membership that takes a share off machine time."""

    __tablename__ = "membership_plan"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    monthly_fee: int = Field(default=0, ge=0)
    discount_percent: int = Field(default=0, ge=0, le=100)


class InvoiceKind(StrEnum):
    invoice = "invoice"
    credit_note = "credit_note"


class InvoiceStatus(StrEnum):
    draft = "draft"  # only inside the transaction that issues it
    issued = "issued"


class LineBasis(StrEnum):
    run_time = "run_time"
    booked_time = "booked_time"
    no_show = "no_show"
    monthly = "monthly"
    membership = "membership"
    # What a month already issued lacks (or bills too much) today, on a later invoice.
    adjustment = "adjustment"
    rent = "rent"  # a rental contract's fee, prorated by day


class Invoice(SQLModel, table=True):
    __table_args__ = (
        # One invoice per account and month, whoever issues it and however often;
        # more only as replacements of credited invoices, each replaced at most once.
        Index(
            "uq_invoice_account_period",
            "account_id",
            "period",
            unique=True,
            postgresql_where=text("kind = 'invoice' AND replaces_id IS NULL"),
            sqlite_where=text("kind = 'invoice' AND replaces_id IS NULL"),
        ),
        Index(
            "uq_invoice_company_period",
            "company_id",
            "period",
            unique=True,
            postgresql_where=text("kind = 'invoice' AND replaces_id IS NULL"),
            sqlite_where=text("kind = 'invoice' AND replaces_id IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, unique=True)
    # The payer: an account, or a company (whose members' lines are tagged), never both.
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    company_id: int | None = Field(default=None, foreign_key="company.id", index=True)
    period: str = Field(max_length=7, index=True)
    kind: InvoiceKind = Field(sa_type=String(16))
    status: InvoiceStatus = Field(default=InvoiceStatus.draft, sa_type=String(16))
    # A credit note names the invoice it corrects (in whole or in part); one per invoice.
    corrects_id: int | None = Field(default=None, foreign_key="invoice.id", unique=True)
    # An invoice issued again for a month names the credited invoice it replaces.
    replaces_id: int | None = Field(default=None, foreign_key="invoice.id", unique=True)
    reason: str = Field(default="", max_length=500)
    issued_at: datetime = Field(sa_type=UTCDateTime)
    issued_by: int | None = Field(default=None, foreign_key="account.id")
    currency: str = Field(max_length=3)
    total: int
    vat: int
    net: int


class InvoiceLine(SQLModel, table=True):
    __tablename__ = "invoice_line"

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    position: int
    basis: LineBasis = Field(sa_type=String(16))
    description: str = Field(max_length=300)
    resource_id: int | None = Field(default=None, foreign_key="resource.id")
    reservation_id: int | None = Field(default=None, foreign_key="reservation.id")
    usage_session_id: int | None = Field(default=None, foreign_key="usage_session.id")
    quantity_minutes: int = 0
    # Won per hour for time, per month for monthly fees; list price before discount.
    unit_price: int
    discount_percent: int = 0
    amount: int
    # On a credit note: the line of the corrected invoice this line cancels.
    credits_line_id: int | None = Field(default=None, foreign_key="invoice_line.id", unique=True)
    # On an adjustment line: the month already issued that it corrects (YYYY-MM).
    adjusts_period: str | None = Field(default=None, max_length=7)
    # On a company's invoice: the member whose section the line belongs to.
    member_account_id: int | None = Field(default=None, foreign_key="account.id")


class InvoicePayment(SQLModel, table=True):
    """Money received against an invoice; rows are only ever added, never changed.

    An invoice is paid once its payments reach its total; a wrong entry is answered by
    another (negative) one, so the ledger keeps what happened.
    """

    __tablename__ = "invoice_payment"

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    paid_at: datetime = Field(sa_type=UTCDateTime)
    amount_won: int
    method: str = Field(max_length=32)
    note: str = Field(default="", max_length=500)
    recorded_by: int | None = Field(default=None, foreign_key="account.id")


class InvoiceCounter(SQLModel, table=True):
    """The last number of a series (invoice, credit_note) in a billed year; its row lock
    orders the issuing of that year (rules/numbering.py)."""

    __tablename__ = "invoice_counter"

    series: str = Field(default=InvoiceKind.invoice.value, primary_key=True, max_length=16)
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = 0
