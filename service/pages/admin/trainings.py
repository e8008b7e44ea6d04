"""Trainings held: who may use which machine type until when; grant, extend, revoke."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from ...api.context import now
from ...db import get_session
from ...errors import DomainError
from ...models import RoleName
from ...models.admin import TrainingGrant, TrainingUpdate
from ...rules import admin_accounts, admin_trainings
from ..auth import staff_required
from ..i18n import site_zone
from ..render import render_page
from .base import Page, bp
from .forms import admin_refusal, form_values, validate


def _page(values: dict[str, Any], errors: dict[str, str]) -> Page:
    db = get_session()
    people = admin_accounts.list_people(session=db, actor=g.principal)
    page = render_page(
        "admin/trainings.html",
        held=admin_trainings.held_trainings(session=db, actor=g.principal),
        today=now().astimezone(site_zone()).date(),
        account_options=[
            (p.account.id, f"{p.account.name} ({p.account.email})")
            for p in people
            if p.role == RoleName.maker and p.account.active
        ],
        category_options=[
            (c, c) for c in admin_trainings.categories_for(session=db, actor=g.principal)
        ],
        values=values,
        errors=errors,
    )
    return (page, 422) if errors else page


@bp.get("/trainings")
@staff_required
def trainings() -> Page:
    return _page({}, {})


@bp.post("/trainings")
@staff_required
def grant_training() -> Page:
    values = form_values(optional=("expires_on",), choices=("account_id", "category"))
    body, errors = validate(TrainingGrant, values)
    if body is not None:
        db = get_session()
        try:
            admin_trainings.grant_training(session=db, now=now(), actor=g.principal, body=body)
        except DomainError as exc:
            db.rollback()
            errors = {"": admin_refusal(exc)}
        else:
            db.commit()
            flash(_("The training has been granted."))
            return redirect(url_for("admin.trainings"))
    return _page(values, errors)


@bp.post("/trainings/<int:training_id>")
@staff_required
def extend_training(training_id: int) -> Page:
    values = form_values(optional=("expires_on",))
    body, errors = validate(TrainingUpdate, values)
    if body is None:
        return _page({}, {"": errors.get("expires_on", "")} if errors else {})
    db = get_session()
    admin_trainings.extend_training(
        session=db, now=now(), actor=g.principal, training_id=training_id, body=body
    )
    db.commit()
    flash(_("The training's expiry has been changed."))
    return redirect(url_for("admin.trainings"))


@bp.post("/trainings/<int:training_id>/revoke")
@staff_required
def revoke_training(training_id: int) -> BaseResponse:
    db = get_session()
    admin_trainings.revoke_training(
        session=db, now=now(), actor=g.principal, training_id=training_id
    )
    db.commit()
    flash(_("The training has been revoked."))
    return redirect(url_for("admin.trainings"))
