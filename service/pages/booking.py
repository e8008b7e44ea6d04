"""Booking on a timeline: a center's machines or rooms by day or week, then a confirmation step."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from flask import Blueprint, current_app, flash, g, get_flashed_messages, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from ..api.context import now
from ..db import get_session
from ..errors import BadRequest, DomainError, NotFound
from ..models import ReservationCreate, ReservationStatus, Resource, ResourceKind, Site
from ..models.types import EARLIEST, LATEST
from ..rules.billing import estimate_booking
from ..rules.booking import create_reservation, preview_booking
from ..rules.catalogue import list_sites, load_resource, load_site, resources_with_sites
from ..rules.pricing import BillingTerms
from ..rules.timeline import Choice, day_timeline, end_choices, week_timeline
from .auth import login_required
from .cells import (
    GLYPHS,
    PARTS,
    STATES,
    day_rows,
    duration,
    local_iso,
    long_day,
    plain_day,
    short_day,
    week_rows,
)
from .i18n import local_name
from .messages import KINDS, refusal
from .render import render_page

bp = Blueprint("book", __name__, template_folder="templates")


E = TypeVar("E", bound=StrEnum)


class View(StrEnum):
    day = "day"
    week = "week"


for _filter in (duration, long_day, plain_day, short_day):
    bp.add_app_template_filter(_filter)


def _choice(name: str, kind: type[E], default: E) -> E:
    text = request.args.get(name) or default.value
    try:
        return kind(text)
    except ValueError:
        raise BadRequest(f"unknown {name} {text!r}", code="invalid_choice") from None


def _day(text: str | None, default: date) -> date:
    if not text:
        return default
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"not a day: {text!r}", code="invalid_day") from None
    if not EARLIEST.date() < day < LATEST.date():
        raise BadRequest(f"day out of range: {text!r}", code="invalid_day")
    return day


def _moment(text: str | None, site: Site) -> datetime:
    """A local time at the site (`2026-03-03T10:00`), or one with its offset."""
    try:
        moment = datetime.fromisoformat(text or "")
    except ValueError:
        raise BadRequest(f"not a time: {text!r}", code="invalid_time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=site.zone)
    if not EARLIEST < moment < LATEST:
        raise BadRequest(f"time out of range: {text!r}", code="invalid_time")
    return moment


@bp.get("/book")
@login_required
def timeline() -> str:
    db = get_session()
    sites = list_sites(session=db)
    default = sites[0].slug if sites else ""
    site = load_site(session=db, slug=request.args.get("site") or default)
    kind = _choice("kind", ResourceKind, ResourceKind.machine)
    view = _choice("view", View, View.day)
    moment = now()
    today = moment.astimezone(site.zone).date()
    day = _day(request.args.get("day"), today)
    pairs = resources_with_sites(session=db, site=site.slug, kind=kind)
    build = day_timeline if view == View.day else week_timeline
    found = build(
        session=db, site=site, resources=pairs, day=day, now=moment, account_id=g.principal.id
    )
    step = timedelta(days=1 if view == View.day else 7)
    return render_page(
        "book/timeline.html",
        block="timeline",
        timeline=found,
        site=site,
        kind=kind,
        view=view,
        day=day,
        today=today,
        earlier=day - step if EARLIEST.date() < day - step else day,
        later=day + step if day + step < LATEST.date() else day,
        site_options=[(s.slug, local_name(s)) for s in sites],
        kind_options=[(k.value, str(label)) for k, label in KINDS.items()],
        rows=day_rows(found) if view == View.day else week_rows(found, kind),
        states=STATES,
        glyphs=GLYPHS,
        parts=PARTS,
        done=get_flashed_messages(),
    )


@bp.route("/book/confirm", methods=["GET", "POST"])
@login_required
def confirm() -> str | BaseResponse | tuple[str, int]:
    """The booking a free cell proposes, its price and rules; the maker may change the end."""
    db = get_session()
    asked = request.form if request.method == "POST" else request.args
    resource_id = asked.get("resource", "")
    if not resource_id.isdecimal() or len(resource_id) > 9:
        raise NotFound(f"no resource {resource_id!r}")
    resource, site = load_resource(session=db, resource_id=int(resource_id))
    start = _moment(asked.get("start"), site)
    moment = now()
    choice = end_choices(
        session=db,
        resource=resource,
        site=site,
        start=start,
        now=moment,
        account_id=g.principal.id,
    )
    if asked.get("end"):
        end = _moment(asked.get("end"), site)
    else:
        end = choice.ends[0] if choice.ends else start + timedelta(minutes=resource.min_minutes)
    if request.method == "POST":
        try:
            made = create_reservation(
                session=db,
                now=moment,
                actor=g.principal,
                data=ReservationCreate.model_validate(
                    {"resource_id": resource.id, "start": start, "end": end}
                ),
            )
        except DomainError as exc:
            db.rollback()
            page = _confirm_page(resource, site, start, end, choice, moment, refused=exc)
            return page, exc.status
        db.commit()
        flash(_done(made.status, local_name(resource), site, start, end))
        back = url_for(
            "book.timeline",
            site=site.slug,
            kind=resource.kind.value,
            day=start.astimezone(site.zone).date().isoformat(),
        )
        return redirect(f"{back}#r{resource.id}")
    return _confirm_page(resource, site, start, end, choice, moment)


def _confirm_page(
    resource: Resource,
    site: Site,
    start: datetime,
    end: datetime,
    choice: Choice,
    moment: datetime,
    refused: DomainError | None = None,
) -> str:
    db = get_session()
    preview = preview_booking(
        session=db,
        now=moment,
        actor=g.principal,
        resource_id=resource.id or 0,
        start=start,
        end=end,
    )
    ends = choice.ends if end in choice.ends or end <= start else sorted({*choice.ends, end})
    return render_page(
        "book/confirm.html",
        block="summary",
        resource=resource,
        site=site,
        start=start,
        end=end,
        day=start.astimezone(site.zone).date(),
        ends=[(e, int((e - start) / timedelta(minutes=1))) for e in ends],
        free=choice.free,
        pending=preview.needs_approval,
        # After a refused booking, the refusal; before, what the rules would say now.
        error=refusal(refused) if refused is not None else None,
        warning=refusal(preview.refused) if refused is None and preview.refused else None,
        estimate=estimate_booking(
            session=db,
            terms=BillingTerms.from_settings(current_app.config["SMARTFAB"]),
            resource=resource,
            account_id=g.principal.id,
            start=start,
            end=max(start, end),
        ),
        minutes=int((end - start) / timedelta(minutes=1)),
        local_iso=local_iso,
    )


def _done(status: ReservationStatus, name: str, site: Site, start: datetime, end: datetime) -> str:
    values: dict[str, Any] = {
        "resource": name,
        "day": start.astimezone(site.zone).date().isoformat(),
        "start": start.astimezone(site.zone).strftime("%H:%M"),
        "end": end.astimezone(site.zone).strftime("%H:%M"),
    }
    if status == ReservationStatus.pending:
        return _(
            "Requested %(resource)s on %(day)s from %(start)s to %(end)s. "
            "An operator will confirm it; until then it waits for approval.",
            **values,
        )
    return _("Booked %(resource)s on %(day)s from %(start)s to %(end)s.", **values)
