"""Administering rental contracts: an admin lets a room to a company or an account (audited).

A room has at most one contract on any day, and a contract is refused while someone
other than its tenant holds a booking of the room in its days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from ..db import begin_write
from ..errors import Conflict, Forbidden, NotFound, RuleViolation
from ..models import (
    BLOCKING,
    Account,
    Company,
    RentalContract,
    Reservation,
    Resource,
    ResourceKind,
)
from .accounts import Principal
from .audit import record
from .catalogue import load_resource
from .tenancy import day_span, is_tenant


def _require_admin(actor: Principal) -> None:
    if not actor.admin:
        raise Forbidden("only an administrator manages rental contracts")


def list_contracts(
    *, session: Session, actor: Principal, resource_id: int | None = None
) -> list[RentalContract]:
    _require_admin(actor)
    query = select(RentalContract).order_by(col(RentalContract.id))
    if resource_id is not None:
        query = query.where(RentalContract.resource_id == resource_id)
    return list(session.exec(query))


def get_contract(*, session: Session, actor: Principal, contract_id: int) -> RentalContract:
    _require_admin(actor)
    contract = session.get(RentalContract, contract_id)
    if contract is None:
        raise NotFound(f"no rental contract {contract_id}")
    return contract


def _check_tenant(session: Session, company_id: int | None, account_id: int | None) -> None:
    if (company_id is None) == (account_id is None):
        raise RuleViolation(
            "a contract has exactly one tenant: a company or an account", code="one_tenant"
        )
    if company_id is not None and session.get(Company, company_id) is None:
        raise NotFound(f"no company {company_id}")
    if account_id is not None and session.get(Account, account_id) is None:
        raise NotFound(f"no account {account_id}")


def _check_free(session: Session, contract: RentalContract) -> None:
    """No other contract of the room on its days, no booking of someone else's in them."""
    if contract.end_date is not None and contract.end_date < contract.start_date:
        raise RuleViolation("a contract cannot end before it starts", code="invalid_span")
    resource, site = load_resource(session=session, resource_id=contract.resource_id)
    if resource.kind != ResourceKind.room:
        raise RuleViolation(f"{resource.name} is not a room", code="not_a_room")
    same_room = select(RentalContract).where(RentalContract.resource_id == contract.resource_id)
    if contract.end_date is not None:
        same_room = same_room.where(col(RentalContract.start_date) <= contract.end_date)
    other = session.exec(
        same_room.where(
            or_(
                col(RentalContract.end_date).is_(None),
                col(RentalContract.end_date) >= contract.start_date,
            ),
            col(RentalContract.id) != (contract.id or 0),
        )
    ).first()
    if other is not None:
        raise Conflict(
            f"{resource.name} is already let on some of these days",
            {"rental_contract_id": other.id},
            code="contract_overlap",
        )
    begin, until = day_span(contract.start_date, contract.end_date, site.zone)
    bookings = select(Reservation, Account).join(
        Account, col(Account.id) == col(Reservation.account_id)
    )
    bookings = bookings.where(
        Reservation.resource_id == contract.resource_id,
        col(Reservation.status).in_(BLOCKING),
        col(Reservation.blocked_until) > begin,
    )
    if until is not None:
        bookings = bookings.where(col(Reservation.start_at) < until)
    held = [r.id for r, account in session.exec(bookings) if not is_tenant(contract, account)]
    if held:
        raise Conflict(
            f"{resource.name} is booked by others on some of these days",
            {"reservation_ids": held},
            code="room_booked",
        )


def _detail(contract: RentalContract) -> dict[str, Any]:
    return {
        "resource_id": contract.resource_id,
        "company_id": contract.company_id,
        "account_id": contract.account_id,
        "start_date": contract.start_date.isoformat(),
        "end_date": contract.end_date.isoformat() if contract.end_date else None,
        "monthly_fee": contract.monthly_fee,
    }


def create_contract(
    *,
    session: Session,
    now: datetime,
    actor: Principal,
    resource_id: int,
    company_id: int | None,
    account_id: int | None,
    start_date: date,
    end_date: date | None,
    monthly_fee: int,
) -> RentalContract:
    """Let a room from `start_date` (to `end_date`, inclusive) at `monthly_fee` won a month."""
    _require_admin(actor)
    begin_write(session)
    _check_tenant(session, company_id, account_id)
    contract = RentalContract(
        resource_id=resource_id,
        company_id=company_id,
        account_id=account_id,
        start_date=start_date,
        end_date=end_date,
        monthly_fee=monthly_fee,
        created_by=actor.id,
        created_at=now,
    )
    _check_free(session, contract)
    session.add(contract)
    session.flush()
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="rental_contract.create",
        subject=f"rental_contract:{contract.id}",
        **_detail(contract),
    )
    return contract


def update_contract(
    *,
    session: Session,
    now: datetime,
    actor: Principal,
    contract_id: int,
    changes: dict[str, Any],
) -> RentalContract:
    """Change a contract's end day (None: open-ended) or its monthly fee."""
    begin_write(session)
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    for name in ("end_date", "monthly_fee"):
        if name in changes:
            setattr(contract, name, changes[name])
    if contract.monthly_fee is None:
        raise RuleViolation("a contract needs a monthly fee", code="invalid_fee")
    _check_free(session, contract)
    session.add(contract)
    session.flush()
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="rental_contract.update",
        subject=f"rental_contract:{contract.id}",
        **_detail(contract),
    )
    return contract


def delete_contract(*, session: Session, now: datetime, actor: Principal, contract_id: int) -> None:
    """Remove a contract made in error; rent already invoiced stands (credit it if need be)."""
    begin_write(session)
    contract = get_contract(session=session, actor=actor, contract_id=contract_id)
    detail = _detail(contract)
    session.delete(contract)
    session.flush()
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="rental_contract.delete",
        subject=f"rental_contract:{contract_id}",
        **detail,
    )


@dataclass(frozen=True)
class ContractRow:
    """A contract as the admin page lists it: the room and the tenant by name."""

    contract: RentalContract
    room: str
    tenant: str


def contract_rows(*, session: Session, actor: Principal) -> list[ContractRow]:
    contracts = list_contracts(session=session, actor=actor)
    rooms = {r.id: r.name for r in session.exec(select(Resource))}
    firms = {c.id: c.name for c in session.exec(select(Company))}
    people = {a.id: a.name for a in session.exec(select(Account))}
    return [
        ContractRow(
            c,
            rooms.get(c.resource_id, ""),
            firms.get(c.company_id, "") if c.company_id else people.get(c.account_id, ""),
        )
        for c in contracts
    ]


def tenant_choices(
    *, session: Session, actor: Principal
) -> tuple[list[tuple[int, str]], list[tuple[int, str]], list[tuple[int, str]]]:
    """(rooms, companies, accounts) an admin may pick from, as (id, label)."""
    _require_admin(actor)
    rooms = session.exec(
        select(Resource)
        .where(Resource.kind == ResourceKind.room, col(Resource.active).is_(True))
        .order_by(col(Resource.name))
    )
    firms = session.exec(select(Company).order_by(col(Company.name)))
    people = session.exec(
        select(Account).where(col(Account.active).is_(True)).order_by(col(Account.name))
    )
    return (
        [(r.id or 0, r.name) for r in rooms],
        [(c.id or 0, c.name) for c in firms],
        [(a.id or 0, f"{a.name} ({a.email})") for a in people],
    )
