"""The staff's machine pages: the site's machines and rooms, and one of them in detail.

One machine's page shows a chart of its telemetry (drawn in the browser from the JSON
below, which answers with the same shape and rule as the API's history), its bookings,
runs and commands, and lets staff close it for maintenance or switch it by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, jsonify, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from telemetry.store import StoreUnavailable

from ..api.context import now
from ..api.telemetry import history
from ..api.telemetry_shapes import TelemetryQuery
from ..db import get_session
from ..errors import BadRequest, DomainError
from ..models import CommandState, Resource, Site
from ..rules import machine_view, maintenance
from ..telemetry_store import get_store
from .auth import staff_required
from .messages import refusal
from .render import render_page

bp = Blueprint("ops_machines", __name__, template_folder="templates")

DEFAULT_SPAN = timedelta(hours=24)
# About this many points per chart, whatever the range: the store averages the rest.
CHART_POINTS = 300
LOCAL_MINUTE = "%Y-%m-%dT%H:%M"
COMMAND_STATES = {
    CommandState.pending: _l("Waiting to be sent"),
    CommandState.sent: _l("Sent, no answer yet"),
    CommandState.acked: _l("Done (device confirmed)"),
    CommandState.refused: _l("Refused by the device"),
    CommandState.failed: _l("Failed: no answer"),
    CommandState.superseded: _l("Replaced by a newer command"),
    CommandState.expired: _l("Expired"),
}
ACTIONS = {
    "enable": _l("Switch on"),
    "disable": _l("Switch off"),
    "warn": _l("Warning"),
    "deny": _l("Refused a badge"),
}
SOURCES = {"slot": _l("Booking"), "badge": _l("Badge"), "manual": _l("By hand")}
SWITCHED = {
    "enable": _l("The machine will be switched on. The command is in the list below."),
    "disable": _l("The machine will be switched off. The command is in the list below."),
}


@bp.get("/ops/machines")
@staff_required
def machines() -> str:
    rows = machine_view.machines_of(session=get_session(), actor=g.principal, now=now())
    sites: dict[int, tuple[Site, list[machine_view.Listed]]] = {}
    for row in rows:
        sites.setdefault(row.site.id or 0, (row.site, []))[1].append(row)
    return render_page("ops_machines/list.html", sites=list(sites.values()))


def _load(site: str, slug: str) -> tuple[Resource, Site]:
    return machine_view.machine_by_slug(
        session=get_session(), actor=g.principal, site=site, slug=slug
    )


def _local(text: str | None, zone: ZoneInfo) -> datetime | None:
    """A `datetime-local` value read in the site's zone; None when empty, else BadRequest."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=zone)
    except ValueError:
        raise BadRequest("unreadable date or time", code="invalid_time") from None


def _every(start: datetime, end: datetime) -> str:
    return f"{max(60, int((end - start).total_seconds()) // CHART_POINTS)}s"


def _latest(resource: Resource, site: Site) -> tuple[dict[str, Any] | None, datetime | None]:
    """The newest value of every field and its time; None when the store cannot be read."""
    try:
        values = dict(get_store().latest(site=site.slug, resource=resource.slug))
    except StoreUnavailable:
        return None, None
    ts = values.pop("ts", None)
    return values, ts if isinstance(ts, datetime) else None


def _chart(resource: Resource, site: Site, latest: dict[str, Any] | None) -> dict[str, Any]:
    """What the chart form and the chart need: fields, chosen field and range, data URL."""
    zone = site.zone
    args = request.args
    moment = now()
    end = _local(args.get("to"), zone) or moment
    start = _local(args.get("from"), zone) or end - DEFAULT_SPAN
    fields = sorted(
        k
        for k, v in (latest or {}).items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    )
    field = args.get("field") if args.get("field") in fields else (fields[0] if fields else None)
    source = None
    if field is not None and start < end:
        span: dict[str, Any] = {
            "field": field,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "every": _every(start, end),
        }
        source = url_for(".telemetry", site=site.slug, slug=resource.slug, **span)
    return {
        "fields": fields,
        "field": field,
        "start": start.astimezone(zone).strftime(LOCAL_MINUTE),
        "end": end.astimezone(zone).strftime(LOCAL_MINUTE),
        "source": source,
        "bad_range": start >= end,
    }


def _page(site: str, slug: str, *, error: str | None = None, status: int = 200) -> tuple[str, int]:
    db, moment = get_session(), now()
    resource, place = _load(site, slug)
    latest, latest_at = _latest(resource, place)
    soon = moment.astimezone(place.zone).replace(second=0, microsecond=0)
    page = render_page(
        "ops_machines/machine.html",
        resource=resource,
        site=place,
        zone=place.zone,
        now=moment,
        latest=latest,
        latest_at=latest_at,
        chart=_chart(resource, place, latest),
        bookings=machine_view.current_and_next(
            session=db, resource_id=resource.id or 0, now=moment
        ),
        runs=machine_view.recent_runs(session=db, resource_id=resource.id or 0),
        commands=machine_view.recent_commands(session=db, resource_id=resource.id or 0),
        blackouts=[
            (
                b,
                machine_view.bookings_in(
                    session=db, resource_id=resource.id or 0, start=b.start_at, end=b.end_at
                ),
            )
            for b in maintenance.blackouts_ahead(session=db, now=moment, resource=resource)
        ],
        device=maintenance.device_of(session=db, resource=resource),
        command_states=COMMAND_STATES,
        actions=ACTIONS,
        sources=SOURCES,
        blackout_start=(soon + timedelta(minutes=5)).strftime(LOCAL_MINUTE),
        blackout_end=(soon + timedelta(hours=2, minutes=5)).strftime(LOCAL_MINUTE),
        error=error,
    )
    return page, status


@bp.get("/ops/machines/<site>/<slug>")
@staff_required
def machine(site: str, slug: str) -> tuple[str, int]:
    return _page(site, slug)


@bp.get("/ops/machines/<site>/<slug>/telemetry")
@staff_required
def telemetry(site: str, slug: str) -> tuple[BaseResponse, int]:
    """The chart's data: the API's history answer, for a page with a session cookie."""
    try:
        resource, place = _load(site, slug)
        query = TelemetryQuery.model_validate(request.args.to_dict())
        answer = history(resource=resource, site=place, query=query, moment=now())
    except ValidationError as exc:
        details = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        bad = DomainError("invalid query", details, code="validation_error")
        return jsonify(bad.to_dict()), 422
    except StoreUnavailable:
        down = DomainError("telemetry cannot be read now", code="telemetry_unavailable")
        return jsonify(down.to_dict()), 503
    except DomainError as exc:
        return jsonify(exc.to_dict()), exc.status
    return jsonify(answer.model_dump(mode="json")), 200


def _act(site: str, slug: str, change: Any, done: str) -> BaseResponse | tuple[str, int]:
    """Run `change(resource)`; commit and come back, or show the page with the refusal."""
    db = get_session()
    try:
        resource, _ = _load(site, slug)
        message = change(resource) or done
    except DomainError as exc:
        db.rollback()
        if exc.status in (403, 404):
            raise
        return _page(site, slug, error=refusal(exc), status=exc.status)
    db.commit()
    flash(message, "success")
    return redirect(url_for(".machine", site=site, slug=slug))


@bp.post("/ops/machines/<site>/<slug>/blackouts")
@staff_required
def add_blackout(site: str, slug: str) -> BaseResponse | tuple[str, int]:
    def change(resource: Resource) -> str | None:
        db, moment = get_session(), now()
        zone = _load(site, slug)[1].zone
        start = _local(request.form.get("start"), zone)
        end = _local(request.form.get("end"), zone)
        if start is None or end is None:
            raise BadRequest("from and to are needed", code="invalid_time")
        made = maintenance.create_blackout(
            session=db,
            now=moment,
            actor=g.principal,
            resource_id=resource.id or 0,
            start=start,
            end=end,
            reason=request.form.get("reason", ""),
        )
        hit = machine_view.bookings_in(
            session=db, resource_id=resource.id or 0, start=made.start_at, end=made.end_at
        )
        if hit:
            return str(
                _l(
                    "Maintenance planned. %(count)d booking(s) fall in this time: "
                    "they stay booked, listed with the maintenance below.",
                    count=len(hit),
                )
            )
        return None

    return _act(site, slug, change, str(_l("Maintenance planned: nobody can book this time.")))


@bp.post("/ops/machines/<site>/<slug>/blackouts/<int:blackout_id>/end")
@staff_required
def end_blackout(site: str, slug: str, blackout_id: int) -> BaseResponse | tuple[str, int]:
    def change(resource: Resource) -> str | None:
        maintenance.end_blackout(
            session=get_session(),
            now=now(),
            actor=g.principal,
            resource_id=resource.id or 0,
            blackout_id=blackout_id,
        )
        return None

    return _act(site, slug, change, str(_l("Maintenance ended: the machine can be booked again.")))


@bp.post("/ops/machines/<site>/<slug>/switch")
@staff_required
def switch(site: str, slug: str) -> BaseResponse | tuple[str, int]:
    action = request.form.get("action", "")

    def change(resource: Resource) -> str | None:
        maintenance.switch_by_hand(
            session=get_session(),
            now=now(),
            actor=g.principal,
            resource_id=resource.id or 0,
            action=action,
            reason=request.form.get("reason", ""),
        )
        return None

    done = SWITCHED.get(action)
    return _act(site, slug, change, str(done or ""))
