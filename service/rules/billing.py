"""What each account owes for a month: the lines of its invoice, before it is issued.

- Machines on run time: the usage sessions that start in the month, by charging
  unit (run_units.py: the runs of one reservation together, walk-ins one by one),
  their run time rounded up to the minute (and at least the plan's minimum), less
  the membership discount. Unauthorised runs are not billed: nobody booked them,
  except a late arrival (late_arrival.py), billed as a walk-in, no-show fee waived.
- Resources on booked time: each confirmed, active or completed reservation that
  starts in the month, for its booked minutes (machines less the membership discount).
- Monthly rooms: nothing here; their rent comes from rental contracts (rental.py),
  whether or not anyone books them, and their bookings cost nothing more.
- No-shows on hourly resources: the plan's share of the booked minutes.
- Cancelled and pending reservations cost nothing.
- A membership adds its monthly fee, in whole months (price_book.py).
- Prices and discounts are those valid on the day the usage starts (price_book.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from ..models import (
    BILLED,
    LineBasis,
    RateBasis,
    Reservation,
    ReservationStatus,
    Resource,
    ResourceKind,
    Site,
    UsageSession,
)
from .late_arrival import LateArrivals, late_arrivals
from .price_book import PriceBook, load
from .pricing import (
    BillingTerms,
    Estimate,
    Period,
    billed_minutes,
    estimate,
    time_charge,
)
from .run_units import charge_units

LATE_ARRIVAL = " · 지각 이용, 노쇼 면제 / late arrival, no-show waived"


@dataclass(frozen=True)
class LineDraft:
    """One line of an invoice to be."""

    basis: LineBasis
    description: str
    unit_price: int
    amount: int
    at: datetime
    quantity_minutes: int = 0
    discount_percent: int = 0
    resource_id: int | None = None
    reservation_id: int | None = None
    usage_session_id: int | None = None
    adjusts_period: str | None = None
    # On a company's invoice: the member whose section the line belongs to.
    member_account_id: int | None = None


@dataclass(frozen=True)
class _Catalogue:
    resources: dict[int, Resource]
    sites: dict[int, Site]
    book: PriceBook

    def label(self, resource_id: int, at: datetime | None = None) -> str:
        resource = self.resources[resource_id]
        name = f"{resource.name} / {resource.name_en}" if resource.name_en else resource.name
        if at is None:
            return name
        day = at.astimezone(self.sites[resource.site_id].zone).date()
        return f"{name} · {day.isoformat()}"


def _catalogue(session: Session, terms: BillingTerms) -> _Catalogue:
    book = load(session=session, terms=terms)
    return _Catalogue(
        resources={r.id or 0: r for r in session.exec(select(Resource))},
        sites={s.id or 0: s for s in session.exec(select(Site))},
        book=book,
    )


def draft_lines(
    *, session: Session, period: Period, terms: BillingTerms
) -> dict[int, list[LineDraft]]:
    """Every account's lines for `period`, in time order; accounts owing nothing are left out."""
    catalogue = _catalogue(session, terms)
    late = late_arrivals(session=session, start=period.start, end=period.end)
    lines: dict[int, list[LineDraft]] = defaultdict(list)
    for account_id, line in (
        *_run_time(session, period, catalogue, late),
        *_reserved(session, period, catalogue, late.waived),
    ):
        lines[account_id].append(line)
    for account_id, plan in catalogue.book.fees(period):
        lines[account_id].append(
            LineDraft(
                basis=LineBasis.membership,
                description=f"{plan.name} · {period.name} 월 회비 / monthly fee",
                unit_price=plan.monthly_fee,
                amount=plan.monthly_fee,
                at=period.start,
            )
        )
    owed = {
        account_id: sorted((line for line in found if line.amount), key=lambda line: line.at)
        for account_id, found in lines.items()
    }
    return {account_id: found for account_id, found in owed.items() if found}


def _machine_discount(
    catalogue: _Catalogue, resource_id: int, account_id: int, at: datetime
) -> int:
    if catalogue.resources[resource_id].kind != ResourceKind.machine:
        return 0
    return catalogue.book.discount(account_id, at)


def _run_time(
    session: Session,
    period: Period,
    catalogue: _Catalogue,
    late: LateArrivals,
) -> Iterable[tuple[int, LineDraft]]:
    runs = session.exec(
        select(UsageSession)
        .where(
            col(UsageSession.start_at) >= period.start,
            col(UsageSession.start_at) < period.end,
            col(UsageSession.account_id).is_not(None),
        )
        .order_by(col(UsageSession.start_at))
    )
    for unit in charge_units(runs, catalogue.book.rate, late):
        first = unit.runs[0]
        rate = catalogue.book.rate(unit.resource_id, first.start_at)
        minutes = billed_minutes(unit.seconds, rate.min_minutes)
        discount = _machine_discount(catalogue, unit.resource_id, unit.account_id, first.start_at)
        label = catalogue.label(unit.resource_id, first.start_at)
        if unit.late:
            label += LATE_ARRIVAL
        elif len(unit.runs) > 1:
            label += f" · {len(unit.runs)}회 / runs"
        yield (
            unit.account_id,
            LineDraft(
                basis=LineBasis.run_time,
                description=label,
                unit_price=rate.price_per_hour,
                amount=time_charge(minutes, rate.price_per_hour, 100 - discount),
                at=first.start_at,
                quantity_minutes=minutes,
                discount_percent=discount,
                resource_id=unit.resource_id,
                reservation_id=unit.reservation_id,
                usage_session_id=first.id if len(unit.runs) == 1 else None,
            ),
        )


def _booked_minutes(reservation: Reservation) -> int:
    return billed_minutes(int((reservation.end_at - reservation.start_at).total_seconds()))


def _reserved(
    session: Session,
    period: Period,
    catalogue: _Catalogue,
    waived: set[int],
) -> Iterable[tuple[int, LineDraft]]:
    """Booked-time lines and no-show charges of reservations starting in the period."""
    reservations = session.exec(
        select(Reservation)
        .where(
            col(Reservation.start_at) >= period.start,
            col(Reservation.start_at) < period.end,
            col(Reservation.status).in_(BILLED),
        )
        .order_by(col(Reservation.start_at))
    )
    for booking in reservations:
        rate = catalogue.book.rate(booking.resource_id, booking.start_at)
        if rate.basis == RateBasis.monthly:
            continue  # the rental contract's rent covers it
        minutes = _booked_minutes(booking)
        label = catalogue.label(booking.resource_id, booking.start_at)
        if booking.status == ReservationStatus.no_show and booking.id in waived:
            continue  # they came late: the run is billed instead (late_arrival.py)
        if booking.status == ReservationStatus.no_show:
            line = LineDraft(
                basis=LineBasis.no_show,
                description=f"{label} · 노쇼 {rate.no_show_percent}% / no-show",
                unit_price=rate.price_per_hour,
                amount=time_charge(minutes, rate.price_per_hour, rate.no_show_percent),
                at=booking.start_at,
                quantity_minutes=minutes,
                resource_id=booking.resource_id,
                reservation_id=booking.id,
            )
        elif rate.basis == RateBasis.booked_time:
            discount = _machine_discount(
                catalogue, booking.resource_id, booking.account_id, booking.start_at
            )
            line = LineDraft(
                basis=LineBasis.booked_time,
                description=label,
                unit_price=rate.price_per_hour,
                amount=time_charge(minutes, rate.price_per_hour, 100 - discount),
                at=booking.start_at,
                quantity_minutes=minutes,
                discount_percent=discount,
                resource_id=booking.resource_id,
                reservation_id=booking.id,
            )
        else:
            continue  # run time: the usage sessions are billed, not the booking
        yield booking.account_id, line


def estimate_booking(
    *,
    session: Session,
    terms: BillingTerms,
    resource: Resource,
    account_id: int,
    start: datetime,
    end: datetime,
) -> Estimate:
    """What booking [start, end) of `resource` would cost the account, at the prices of `start`."""
    book = load(session=session, terms=terms)
    discount = book.discount(account_id, start)
    return estimate(
        rate=book.rate(resource.id or 0, start),
        minutes=billed_minutes(int((end - start).total_seconds())),
        discount_percent=discount if resource.kind == ResourceKind.machine else 0,
    )
