"""Rental contracts: which firm or person holds which room, from when, at what monthly fee."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from ...api.context import now
from ...db import get_session
from ...errors import DomainError
from ...models import RentalContractCreate, RentalContractUpdate
from ...rules import rental_contracts
from ..auth import admin_required
from ..render import render_page
from .base import Page, bp
from .forms import admin_refusal, form_values, validate


def _page(values: dict[str, Any], errors: dict[str, str]) -> Page:
    db = get_session()
    rooms, firms, people = rental_contracts.tenant_choices(session=db, actor=g.principal)
    page = render_page(
        "admin/rentals.html",
        rows=rental_contracts.contract_rows(session=db, actor=g.principal),
        room_options=rooms,
        company_options=firms,
        account_options=people,
        values=values,
        errors=errors,
    )
    return (page, 422) if errors else page


@bp.get("/rentals")
@admin_required
def rentals() -> Page:
    return _page({}, {})


@bp.post("/rentals")
@admin_required
def let_room() -> Page:
    values = form_values(
        optional=("end_date", "company_id", "account_id"), choices=("resource_id",)
    )
    body, errors = validate(RentalContractCreate, values)
    if body is not None:
        db = get_session()
        try:
            rental_contracts.create_contract(
                session=db, now=now(), actor=g.principal, **body.model_dump()
            )
        except DomainError as exc:
            db.rollback()
            errors = {"": admin_refusal(exc)}
        else:
            db.commit()
            flash(_("The room has been let."))
            return redirect(url_for("admin.rentals"))
    return _page(values, errors)


@bp.post("/rentals/<int:contract_id>")
@admin_required
def end_rental(contract_id: int) -> Page:
    values = form_values(optional=("end_date",))
    body, errors = validate(RentalContractUpdate, values)
    if body is not None:
        db = get_session()
        try:
            rental_contracts.update_contract(
                session=db,
                now=now(),
                actor=g.principal,
                contract_id=contract_id,
                changes={"end_date": body.end_date},
            )
        except DomainError as exc:
            db.rollback()
            errors = {"": admin_refusal(exc)}
        else:
            db.commit()
            flash(_("The contract's last day has been changed."))
            return redirect(url_for("admin.rentals"))
    return _page({}, {"": next(iter(errors.values()))} if errors else errors)


@bp.post("/rentals/<int:contract_id>/delete")
@admin_required
def remove_rental(contract_id: int) -> BaseResponse:
    db = get_session()
    rental_contracts.delete_contract(
        session=db, now=now(), actor=g.principal, contract_id=contract_id
    )
    db.commit()
    flash(_("The contract has been removed."))
    return redirect(url_for("admin.rentals"))
