"""Sites: the list, a new site, and one site's details, weekly hours and holidays (admins)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from ...api.context import now
from ...db import get_session
from ...errors import DomainError
from ...models import Site
from ...models.admin import HolidayCreate, SiteCreate, SiteUpdate
from ...rules import admin_catalogue
from ..auth import admin_required
from ..i18n import local_name
from ..render import render_page
from .base import WEEKDAYS, Page, bp, saved
from .forms import admin_refusal, form_values, validate

_INSTANT = timedelta(microseconds=1)


@bp.get("/sites")
@admin_required
def sites() -> str:
    found = admin_catalogue.managed_sites(session=get_session(), actor=g.principal)
    return render_page("admin/sites.html", sites=found)


# Each weekday on the page: one opening interval, and a second one (after a lunch break).
INTERVALS = ("", "_2")


def _hours_values(site_id: int | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if site_id is None:
        return values
    taken: dict[int, int] = {}
    for hours in admin_catalogue.site_hours(session=get_session(), site_id=site_id):
        index = taken.get(hours.weekday, 0)
        taken[hours.weekday] = index + 1
        if index < len(INTERVALS):
            suffix = f"{hours.weekday}{INTERVALS[index]}"
            values[f"opens_{suffix}"] = hours.opens.strftime("%H:%M")
            values[f"closes_{suffix}"] = hours.closes.strftime("%H:%M")
    return values


def _site_form() -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The posted site with its week, and the input suffix of each interval read.

    A weekday interval with either time given is read (and checked); both empty, it is none.
    """
    values = form_values()
    body = {k: v for k, v in values.items() if not k.startswith(("opens_", "closes_"))}
    hours, suffixes = [], []
    for day in range(7):
        for interval in INTERVALS:
            suffix = f"{day}{interval}"
            opens, closes = values.get(f"opens_{suffix}"), values.get(f"closes_{suffix}")
            if opens or closes:
                hours.append({"weekday": day, "opens": opens or "", "closes": closes or ""})
                suffixes.append(suffix)
    body["hours"] = hours
    return values, body, suffixes


def _hours_errors(errors: dict[str, str], suffixes: list[str]) -> dict[str, str]:
    """Errors of hours.N.field named after the inputs of that interval."""
    named: dict[str, str] = {}
    for where, message in errors.items():
        parts = where.split(".")
        if parts[0] == "hours" and len(parts) >= 2 and parts[1].isdigit():
            field = "closes" if len(parts) == 2 else parts[2]
            named[f"{field}_{suffixes[int(parts[1])]}"] = message
        else:
            named[where] = message
    return named


@bp.route("/sites/new", methods=["GET", "POST"])
@admin_required
def new_site() -> Page:
    values: dict[str, Any] = {
        "timezone": "Asia/Seoul",
        "machine_quota_hours": 0,
        "room_quota_hours": 0,
    }
    for day in range(5):
        values[f"opens_{day}"], values[f"closes_{day}"] = "09:00", "18:00"
    errors: dict[str, str] = {}
    if request.method == "POST":
        values, raw, suffixes = _site_form()
        body, errors = validate(SiteCreate, raw)
        errors = _hours_errors(errors, suffixes)
        if body is not None:
            db = get_session()
            try:
                site = admin_catalogue.create_site(
                    session=db, now=now(), actor=g.principal, body=body
                )
            except DomainError as exc:
                db.rollback()
                errors = {"": admin_refusal(exc)}
            else:
                db.commit()
                flash(_("%(name)s has been added.", name=local_name(site)))
                return redirect(url_for("admin.site", site_id=site.id))
    return saved("admin/site.html", errors, site=None, values=values, weekdays=WEEKDAYS)


@bp.route("/sites/<int:site_id>", methods=["GET", "POST"])
@admin_required
def site(site_id: int) -> Page:
    db = get_session()
    found = admin_catalogue.load_site_for(session=db, actor=g.principal, site_id=site_id)
    values = {**found.model_dump(), **_hours_values(site_id)}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values, raw, suffixes = _site_form()
        raw.pop("slug", None)
        body, errors = validate(SiteUpdate, raw)
        errors = _hours_errors(errors, suffixes)
        if body is not None:
            admin_catalogue.update_site(
                session=db, now=now(), actor=g.principal, site_id=site_id, body=body
            )
            db.commit()
            flash(_("%(name)s has been saved.", name=local_name(found)))
            return redirect(url_for("admin.site", site_id=site_id))
    return _site_page(found, values, errors, {}, {})


def _site_page(
    found: Site,
    values: dict[str, Any],
    errors: dict[str, str],
    holiday: dict[str, Any],
    holiday_errors: dict[str, str],
) -> Page:
    zone = found.zone
    # Shown as the first and the last day closed: the end is the midnight after the last.
    holidays = [
        (h, h.start_at.astimezone(zone).date(), (h.end_at - _INSTANT).astimezone(zone).date())
        for h in admin_catalogue.site_holidays(session=get_session(), site_id=found.id or 0)
    ]
    page = render_page(
        "admin/site.html",
        site=found,
        values=values,
        errors=errors,
        weekdays=WEEKDAYS,
        holidays=holidays,
        holiday=holiday,
        holiday_errors=holiday_errors,
    )
    return (page, 422) if errors or holiday_errors else page


@bp.post("/sites/<int:site_id>/holidays")
@admin_required
def add_holiday(site_id: int) -> Page:
    db = get_session()
    found = admin_catalogue.load_site_for(session=db, actor=g.principal, site_id=site_id)
    values = form_values()
    errors: dict[str, str] = {}
    days: dict[str, date] = {}
    for name in ("start", "end"):
        try:
            days[name] = date.fromisoformat(values.get(name, ""))
        except ValueError:
            errors[name] = _("Enter a date such as 2026-03-03.")
    if not errors:
        # A holiday closes whole local days: from the first one's midnight to the last one's end.
        raw = {
            "start": datetime.combine(days["start"], time(0), found.zone),
            "end": datetime.combine(days["end"] + timedelta(days=1), time(0), found.zone),
            "reason": values.get("reason", ""),
        }
        body, problems = validate(HolidayCreate, raw)
        errors = {("end" if k == "" else k): v for k, v in problems.items()}
        if body is not None:
            admin_catalogue.add_holiday(
                session=db, now=now(), actor=g.principal, site_id=site_id, body=body
            )
            db.commit()
            flash(_("The holiday has been added: the site is closed then."))
            return redirect(url_for("admin.site", site_id=site_id) + "#holidays")
    values_site = {**found.model_dump(), **_hours_values(site_id)}
    return _site_page(found, values_site, {}, values, errors)


@bp.post("/sites/<int:site_id>/holidays/<int:blackout_id>/delete")
@admin_required
def remove_holiday(site_id: int, blackout_id: int) -> BaseResponse:
    db = get_session()
    admin_catalogue.remove_holiday(
        session=db, now=now(), actor=g.principal, site_id=site_id, blackout_id=blackout_id
    )
    db.commit()
    flash(_("The holiday has been removed."))
    return redirect(url_for("admin.site", site_id=site_id) + "#holidays")
