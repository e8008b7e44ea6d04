"""Rental contracts of rooms (admins): list, read, create, change, remove; audited."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response
from pydantic import BaseModel, Field

from ..db import get_session
from ..models import RentalContract, RentalContractCreate, RentalContractUpdate
from ..models.rental import FEE
from ..models.types import Id
from ..rules import rental_contracts as rules
from .context import current_principal, now
from .openapi import operation
from .schemas import Strict

bp = Blueprint("rental_contracts", __name__, url_prefix="/api/v1/rental-contracts")

ONE = "/<int:contract_id>"


class ContractQuery(Strict):
    resource: Id | None = Field(default=None, description="only this room's contracts")


class ContractPublic(BaseModel):
    id: int
    resource_id: int
    company_id: int | None
    account_id: int | None
    start_date: date
    end_date: date | None
    monthly_fee: int = Field(description=FEE)
    created_by: int | None


def _public(contract: RentalContract) -> ContractPublic:
    return ContractPublic.model_validate(contract, from_attributes=True)


@operation(
    bp,
    "",
    "GET",
    summary="Rental contracts of rooms",
    query=ContractQuery,
    response=list[ContractPublic],
    errors=(403,),
)
def list_(query: ContractQuery) -> list[ContractPublic]:
    found = rules.list_contracts(
        session=get_session(), actor=current_principal(), resource_id=query.resource
    )
    return [_public(c) for c in found]


@operation(
    bp,
    "",
    "POST",
    summary="Let a room to a company or an account from a day, at a monthly fee",
    body=RentalContractCreate,
    response=ContractPublic,
    status=201,
    errors=(403, 404, 409, 422),
)
def create(body: RentalContractCreate) -> ContractPublic:
    contract = rules.create_contract(
        session=get_session(), now=now(), actor=current_principal(), **body.model_dump()
    )
    return _public(contract)


@operation(bp, ONE, "GET", summary="A rental contract", response=ContractPublic, errors=(403, 404))
def read(contract_id: int) -> ContractPublic:
    return _public(
        rules.get_contract(
            session=get_session(), actor=current_principal(), contract_id=contract_id
        )
    )


@operation(
    bp,
    ONE,
    "PATCH",
    summary="End a contract on a day, make it open-ended again, or change its fee",
    body=RentalContractUpdate,
    response=ContractPublic,
    errors=(403, 404, 409, 422),
)
def update(contract_id: int, body: RentalContractUpdate) -> ContractPublic:
    contract = rules.update_contract(
        session=get_session(),
        now=now(),
        actor=current_principal(),
        contract_id=contract_id,
        changes=body.model_dump(exclude_unset=True),
    )
    return _public(contract)


@operation(
    bp, ONE, "DELETE", summary="Remove a contract made in error", status=204, errors=(403, 404)
)
def delete(contract_id: int) -> Response:
    rules.delete_contract(
        session=get_session(), now=now(), actor=current_principal(), contract_id=contract_id
    )
    return Response(status=204)
