"""My reservations: upcoming, past and cancelled, each with what may be done to it.

The actions offered, and the reason for each one not offered, come from
rules.guards.allowed_actions; a change is the same rule function the API calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from ..api.context import now
from ..db import get_session
from ..errors import BadRequest, DomainError
from ..models import (
    BLOCKING,
    Reservation,
    ReservationCreate,
    ReservationStatus,
    ReservationUpdate,
    Resource,
    ResourceKind,
    Site,
)
from ..rules import lifecycle
from ..rules.booking import create_series
from ..rules.catalogue import load_resource, resources_with_sites
from ..rules.guards import allowed_actions
from .auth import login_required
from .i18n import local_name, site_zone
from .messages import refusal
from .render import render_page

bp = Blueprint("my_reservations", __name__, template_folder="templates")

APART = (ReservationStatus.cancelled, ReservationStatus.no_show)
ACTION_LABELS = {
    "check_in": _l("Check in"),
    "release": _l("Release now"),
    "extend": _l("Extend"),
    "move": _l("Move"),
    "cancel": _l("Cancel booking"),
}
DONE = {
    "check_in": _l("Checked in. Enjoy your session."),
    "release": _l("Released: the rest of the time is free for others."),
    "extend": _l("The booking now ends later."),
    "move": _l("The booking has been moved."),
    "cancel": _l("The booking has been cancelled."),
}
FREQUENCIES = {"weekly": _l("Every week"), "daily": _l("Every day")}


@dataclass(frozen=True)
class Row:
    """A reservation with its names and, per action, None when offered or the reason not."""

    reservation: Reservation
    resource: Resource
    site: Site
    refusals: dict[str, str | None]

    @property
    def offered(self) -> list[str]:
        return [action for action, reason in self.refusals.items() if reason is None]

    @property
    def refused(self) -> list[tuple[str, str]]:
        return [(action, reason) for action, reason in self.refusals.items() if reason]


PAST_SHOWN = 100


def _rows() -> list[Row]:
    db, moment = get_session(), now()
    # Everything still ahead, and the most recent of what is behind: a long history
    # never pushes the coming bookings off the page.
    ahead = lifecycle.list_reservations(
        session=db, actor=g.principal, mine=True, start=moment, end=None
    )
    behind = lifecycle.list_reservations(
        session=db,
        actor=g.principal,
        mine=True,
        start=None,
        end=moment,
        limit=PAST_SHOWN,
        newest_first=True,
    )
    reservations = sorted({r.id: r for r in [*behind, *ahead]}.values(), key=lambda r: r.start_at)
    places = {r.id: (r, s) for r, s in resources_with_sites(session=db)}
    rows = []
    for reservation in reservations:
        if reservation.resource_id not in places:
            continue
        resource, site = places[reservation.resource_id]
        allowed = allowed_actions(reservation=reservation, site=site, actor=g.principal, now=moment)
        reasons = {a: (refusal(e) if e else None) for a, e in allowed.items()}
        rows.append(Row(reservation, resource, site, reasons))
    return rows


def _page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    moment = now()
    rows = _rows()
    upcoming = [
        r for r in rows if r.reservation.status in BLOCKING and r.reservation.end_at > moment
    ]
    apart = [r for r in rows if r.reservation.status in APART]
    past = [r for r in rows if r not in upcoming and r not in apart]
    page = render_page(
        "reservations/index.html",
        upcoming=upcoming,
        past=past[::-1],
        apart=apart[::-1],
        labels=ACTION_LABELS,
        error=error,
    )
    return page, status


@bp.get("/me/reservations")
@login_required
def index() -> tuple[str, int]:
    return _page()


def _moment(day: str | None, clock: str | None, zone: ZoneInfo) -> datetime:
    """A local date and wall-clock time from a form, in `zone`; BadRequest if unreadable."""
    try:
        return datetime.combine(
            date.fromisoformat(day or ""), time.fromisoformat(clock or ""), zone
        )
    except ValueError:
        raise BadRequest("unreadable date or time", code="invalid_time") from None


def _change(action: str, reservation_id: int) -> None:
    db, moment, actor = get_session(), now(), g.principal
    if action in ("move", "extend"):
        found = lifecycle.get_reservation(session=db, actor=actor, reservation_id=reservation_id)
        zone = load_resource(session=db, resource_id=found.resource_id)[1].zone
        form = request.form
        if action == "move":
            start = _moment(form.get("day"), form.get("start"), zone)
            end = _moment(form.get("day"), form.get("end"), zone)
            data = ReservationUpdate.model_validate({"start": start, "end": end})
            lifecycle.move_reservation(
                session=db, now=moment, actor=actor, reservation_id=reservation_id, data=data
            )
        else:
            day = found.end_at.astimezone(zone).date().isoformat()
            lifecycle.extend(
                session=db,
                now=moment,
                actor=actor,
                reservation_id=reservation_id,
                end=_moment(day, form.get("end"), zone),
            )
        return
    change = {
        "cancel": lifecycle.cancel_reservation,
        "check_in": lifecycle.check_in,
        "release": lifecycle.release,
    }[action]
    change(session=db, now=moment, actor=actor, reservation_id=reservation_id)


@bp.post("/me/reservations/<int:reservation_id>/<action>")
@login_required
def act(reservation_id: int, action: str) -> BaseResponse | tuple[str, int]:
    """One action on one reservation; the rule's refusal is shown with its status."""
    if action not in DONE:
        abort(404)
    db = get_session()
    try:
        _change(action, reservation_id)
    except DomainError as exc:
        db.rollback()
        if exc.status in (400, 403, 404):
            raise  # a page of its own: not yours, not there, or unreadable
        return _page(error=refusal(exc), status=exc.status)
    db.commit()
    flash(str(DONE[action]), "success")
    return redirect(url_for(".index"))


# Recurring bookings of a room.


def _rooms() -> list[tuple[str, str]]:
    pairs = resources_with_sites(session=get_session(), kind=ResourceKind.room)
    return [(str(r.id), f"{local_name(r)} · {local_name(s)}") for r, s in pairs]


def _series_form(
    *, values: dict[str, Any], error: str | None = None, failed: list[dict[str, Any]] | None = None
) -> str:
    return render_page(
        "reservations/series.html",
        rooms=_rooms(),
        frequencies=[(k, str(v)) for k, v in FREQUENCIES.items()],
        values=values,
        error=error,
        failed=failed or [],
    )


def _occurrence(entry: dict[str, Any]) -> dict[str, Any]:
    """A skipped occurrence as the page shows it: its times and the reason in a sentence."""
    reason = refusal(DomainError("", code=str(entry.get("code", ""))))
    return {
        "start": datetime.fromisoformat(entry["start"]),
        "end": datetime.fromisoformat(entry["end"]),
        "reason": reason,
    }


def _series_request(form: Any) -> ReservationCreate:
    try:
        resource_id = int(form.get("resource_id", ""))
    except ValueError:
        raise BadRequest("no room chosen", code="invalid_time") from None
    zone = load_resource(session=get_session(), resource_id=resource_id)[1].zone
    start = _moment(form.get("day"), form.get("start"), zone)
    end = _moment(form.get("day"), form.get("end"), zone)
    recurrence: dict[str, Any] = {
        "freq": form.get("freq", ""),
        "skip_conflicts": form.get("skip_conflicts") == "on",
    }
    if form.get("repeat") == "until":
        last = _moment(form.get("until"), "23:59", zone)
        recurrence["until"] = last
    else:
        recurrence["count"] = form.get("count", "")
    try:
        return ReservationCreate.model_validate(
            {"resource_id": resource_id, "start": start, "end": end, "recurrence": recurrence}
        )
    except ValidationError:
        raise BadRequest("the repetition is not valid", code="recurrence") from None


@bp.route("/me/reservations/new-series", methods=["GET", "POST"])
@login_required
def new_series() -> str | BaseResponse | tuple[str, int]:
    if request.method == "GET":
        tomorrow = (now().astimezone(site_zone()) + timedelta(days=1)).date()
        defaults = {
            "day": tomorrow.isoformat(),
            "start": "10:00",
            "end": "11:00",
            "freq": "weekly",
            "repeat": "count",
            "count": "4",
            "until": (tomorrow + timedelta(weeks=4)).isoformat(),
            "resource_id": request.args.get("resource_id", ""),
        }
        return _series_form(values=defaults)
    db = get_session()
    values = request.form.to_dict()
    try:
        data = _series_request(request.form)
        limit = current_app.config["SMARTFAB"].booking.max_recurrences
        result = create_series(session=db, now=now(), actor=g.principal, data=data, limit=limit)
    except DomainError as exc:
        db.rollback()
        if exc.status in (403, 404):
            raise
        details = exc.details if isinstance(exc.details, dict) else {}
        failed = [_occurrence(e) for e in details.get("occurrences", [])]
        page = _series_form(values=values, error=refusal(exc), failed=failed)
        return page, exc.status
    db.commit()
    session["series_report"] = {
        "resource_id": data.resource_id,
        "booked": [[r.start_at.isoformat(), r.end_at.isoformat()] for r in result.reservations],
        "skipped": result.skipped,
    }
    return redirect(url_for(".series_report"))


@bp.get("/me/reservations/series-report")
@login_required
def series_report() -> str | BaseResponse:
    """What the last series booked and skipped (once: the report leaves the session)."""
    report = session.pop("series_report", None)
    if not report:
        return redirect(url_for(".index"))
    booked = [
        (datetime.fromisoformat(start), datetime.fromisoformat(end))
        for start, end in report["booked"]
    ]
    resource, site = load_resource(session=get_session(), resource_id=report["resource_id"])
    return render_page(
        "reservations/report.html",
        resource=resource,
        site=site,
        booked=booked,
        skipped=[_occurrence(e) for e in report["skipped"]],
    )
