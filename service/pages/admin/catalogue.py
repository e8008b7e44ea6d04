"""Resources: the list by center, a new machine or room, and one's settings."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _

from ...api.context import now
from ...db import get_session
from ...errors import DomainError
from ...models import Resource, ResourceKind, Site
from ...models.admin import ResourceCreate, ResourceUpdate
from ...rules import admin_catalogue, admin_plans, resource_pricing
from ..auth import staff_required
from ..i18n import local_name
from ..messages import KINDS
from ..render import render_page
from .base import Page, bp, saved
from .forms import admin_refusal, form_values, validate

FLAGS = ("requires_training", "requires_approval", "walk_in_allowed", "active")
NUMBERS = (
    "slot_minutes",
    "min_minutes",
    "max_minutes",
    "buffer_minutes",
    "lead_minutes",
    "max_days_ahead",
    "capacity",
    "rate_per_hour",
)


PRICING = ("rate_plan_id", "price_from")


def _plan_options() -> list[tuple[int | None, str]]:
    plans = admin_plans.rate_plans(session=get_session(), actor=g.principal)
    return [(plan.id, plan.name) for plan, _versions in plans]


def _site_options() -> list[tuple[int | None, str]]:
    sites = admin_catalogue.managed_sites(session=get_session(), actor=g.principal)
    return [(s.id, local_name(s)) for s in sites]


# -- resources ---------------------------------------------------------------------------


@bp.get("/resources")
@staff_required
def resources() -> str:
    site = request.args.get("site", "")
    site_id = int(site) if site.isdigit() and len(site) < 10 else None
    rows = admin_catalogue.managed_resources(
        session=get_session(), actor=g.principal, site_id=site_id
    )
    return render_page(
        "admin/resources.html",
        block="results",
        rows=rows,
        site=site_id,
        site_options=_site_options(),
    )


def _resource_values(resource: Resource) -> dict[str, Any]:
    return resource.model_dump()


@bp.route("/resources/new", methods=["GET", "POST"])
@staff_required
def new_resource() -> Page:
    values: dict[str, Any] = _resource_values(
        Resource(site_id=0, kind=ResourceKind.machine, slug="", name="")
    )
    values["site_id"] = request.args.get("site", "")
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = form_values(flags=FLAGS, choices=("site_id", "kind"))
        body, errors = validate(ResourceCreate, values)
        if body is not None:
            db = get_session()
            try:
                resource = admin_catalogue.create_resource(
                    session=db, now=now(), actor=g.principal, body=body
                )
            except DomainError as exc:
                db.rollback()
                errors = {"": admin_refusal(exc)}
            else:
                db.commit()
                flash(_("%(name)s has been added.", name=local_name(resource)))
                return redirect(url_for("admin.resources", site=resource.site_id))
    return saved(
        "admin/resource.html",
        errors,
        resource=None,
        values=values,
        site_options=_site_options(),
        kind_options=[(k.value, label) for k, label in KINDS.items()],
    )


@bp.route("/resources/<int:resource_id>", methods=["GET", "POST"])
@staff_required
def resource(resource_id: int) -> Page:
    db = get_session()
    found = admin_catalogue.load_resource_for(
        session=db, actor=g.principal, resource_id=resource_id
    )
    values = _resource_values(found)
    errors: dict[str, str] = {}
    if request.method == "POST":
        # An empty plan moves the resource off its plan: only when the form has the field.
        values = form_values(flags=FLAGS, optional=[n for n in PRICING if n in request.form])
        body, errors = validate(ResourceUpdate, values)
        if body is not None:
            try:
                admin_catalogue.update_resource(
                    session=db, now=now(), actor=g.principal, resource_id=resource_id, body=body
                )
            except DomainError as exc:
                db.rollback()
                errors = {"": admin_refusal(exc)}
            else:
                db.commit()
                flash(_("%(name)s has been saved.", name=local_name(found)))
                return redirect(url_for("admin.resources", site=found.site_id))
        values = {**_resource_values(found), **values}
    site = db.get(Site, found.site_id)
    return saved(
        "admin/resource.html",
        errors,
        resource=found,
        site=site,
        values=values,
        plan_options=_plan_options(),
        pricing=resource_pricing.history(session=db, resource=found),
        plan_names=dict(_plan_options()),
    )
