"""The operator's day at a site, the approvals queue, and booking on a maker's behalf.

Each decision is the rule the API calls (booking, lifecycle, display); these views
only read the form, call it, and show the answer or the refusal in a sentence.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from ..api.context import now
from ..db import get_session
from ..errors import BadRequest, DomainError, RuleViolation
from ..models import ReservationCreate, ReservationStatus, Site
from ..rules import lifecycle
from ..rules.booking import create_reservation
from ..rules.catalogue import list_sites, load_resource, visible_sites
from ..rules.display import displays, reset_display_secret
from ..rules.today import bookable_people, pending_approvals, site_day, site_today
from .auth import staff_required
from .i18n import local_name
from .messages import refusal
from .render import render_page

bp = Blueprint("ops_today", __name__, template_folder="templates")

DECISIONS = {"approve": _l("Booking approved."), "decline": _l("Booking declined.")}
SHORTEST_REASON = 3


def _sites() -> list[Site]:
    """The sites this person operates (every site for an admin)."""
    db = get_session()
    found = visible_sites(session=db, principal=g.principal)
    return list_sites(session=db) if found is None else found


def _site(slug: str | None) -> Site:
    sites = _sites()
    if not sites:
        abort(404)
    if not slug:
        return sites[0]
    for site in sites:
        if site.slug == slug:
            return site
    abort(403)


def _today_page(site: Site, *, form: dict[str, Any] | None = None, error: str | None = None) -> str:
    db, moment = get_session(), now()
    today = site_today(site, moment)
    day = site_day(session=db, site=site, day=today)
    resources = displays(session=db, site=site)
    values = {
        "account_id": "",
        "resource_id": "",
        "day": today.isoformat(),
        "start": "",
        "end": "",
        "override": "",
        "override_reason": "",
    }
    values.update(form or {})
    return render_page(
        "ops_today/today.html",
        site=site,
        site_options=[(s.slug, local_name(s)) for s in _sites()],
        day=day,
        statuses_shown=[
            ReservationStatus.confirmed,
            ReservationStatus.active,
            ReservationStatus.completed,
            ReservationStatus.no_show,
            ReservationStatus.cancelled,
            ReservationStatus.pending,
        ],
        people=[(str(a.id), f"{a.name} · {a.email}") for a in bookable_people(session=db)],
        resource_options=[(str(r.id), local_name(r)) for r in resources],
        displays=[
            (r, url_for("display.show", secret=r.display_secret, _external=True)) for r in resources
        ],
        values=values,
        error=error,
        zone=site.zone,
    )


@bp.get("/ops/today")
@staff_required
def today() -> str:
    return _today_page(_site(request.args.get("site")))


def _moment(day: str | None, clock: str | None, zone: ZoneInfo) -> datetime:
    try:
        return datetime.combine(
            date.fromisoformat(day or ""), time.fromisoformat(clock or ""), zone
        )
    except ValueError:
        raise BadRequest("unreadable date or time", code="invalid_time") from None


def _on_behalf(form: Any) -> ReservationCreate:
    """The booking the form asks for; an override without a reason is refused."""
    try:
        resource_id, account_id = int(form.get("resource_id", "")), int(form.get("account_id", ""))
    except ValueError:
        raise BadRequest("choose a maker and a resource", code="invalid_choice") from None
    reason = form.get("override_reason", "").strip() if form.get("override") == "on" else ""
    if form.get("override") == "on" and len(reason) < SHORTEST_REASON:
        raise RuleViolation("an override needs a reason", code="override_reason")
    zone = load_resource(session=get_session(), resource_id=resource_id)[1].zone
    body: dict[str, Any] = {
        "resource_id": resource_id,
        "account_id": account_id,
        "start": _moment(form.get("day"), form.get("start"), zone),
        "end": _moment(form.get("day"), form.get("end"), zone),
    }
    if reason:
        body["override_reason"] = reason
    try:
        return ReservationCreate.model_validate(body)
    except ValidationError:
        raise BadRequest("the booking is not valid", code="invalid_time") from None


@bp.post("/ops/today/book")
@staff_required
def book() -> BaseResponse | tuple[str, int]:
    """Book for a maker, as the operator; the same rule as the API's booking."""
    site = _site(request.form.get("site"))
    db = get_session()
    try:
        data = _on_behalf(request.form)
        create_reservation(session=db, now=now(), actor=g.principal, data=data)
    except DomainError as exc:
        db.rollback()
        if exc.status in (403, 404):
            raise
        page = _today_page(site, form=request.form.to_dict(), error=refusal(exc))
        return page, exc.status
    db.commit()
    flash(str(_l("Booked for the maker.")), "success")
    return redirect(url_for(".today", site=site.slug))


@bp.post("/ops/displays/<int:resource_id>/reset")
@staff_required
def reset_display(resource_id: int) -> BaseResponse:
    db = get_session()
    resource = reset_display_secret(
        session=db, now=now(), actor=g.principal, resource_id=resource_id
    )
    db.commit()
    flash(str(_l("A new display address was made; the old one no longer opens.")), "success")
    site = next((s for s in _sites() if s.id == resource.site_id), None)
    return redirect(url_for(".today", site=site.slug if site else None) + "#displays")


def _approvals_page(error: str | None = None) -> str:
    rows = pending_approvals(session=get_session(), actor=g.principal, now=now())
    return render_page("ops_today/approvals.html", rows=rows, error=error)


@bp.get("/ops/approvals")
@staff_required
def approvals() -> str:
    return _approvals_page()


@bp.post("/ops/approvals/<int:reservation_id>/<decision>")
@staff_required
def decide(reservation_id: int, decision: str) -> BaseResponse | tuple[str, int]:
    if decision not in DECISIONS:
        abort(404)
    db = get_session()
    reason = request.form.get("reason", "").strip()
    try:
        if decision == "decline" and len(reason) < SHORTEST_REASON:
            raise RuleViolation("a decline needs a reason", code="decline_reason")
        lifecycle.decide_approval(
            session=db,
            now=now(),
            actor=g.principal,
            reservation_id=reservation_id,
            approve=decision == "approve",
            reason=reason,
        )
    except DomainError as exc:
        db.rollback()
        if exc.status in (403, 404):
            raise
        return _approvals_page(error=refusal(exc)), exc.status
    db.commit()
    flash(str(DECISIONS[decision]), "success")
    return redirect(url_for(".approvals"))
