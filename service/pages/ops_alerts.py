"""Alerts for operators: what needs looking at on their floor, acknowledged and resolved
with a note. The same rules as the API's (rules/alerts.py); every action is a form post."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from ..api.context import now
from ..db import get_session
from ..errors import BadRequest, DomainError
from ..models import AlertKind, Site
from ..rules import alerts as rules
from ..rules.accounts import account_names
from ..rules.alerts import NOTE_MAX, AlertRow, AlertState
from ..rules.catalogue import list_sites, visible_sites
from .auth import same_site, staff_required
from .i18n import local_name, site_zone
from .messages import refusal
from .render import render_page

bp = Blueprint("ops_alerts", __name__, template_folder="templates")

KIND_LABELS = {
    AlertKind.offline: _l("Device offline"),
    AlertKind.fault: _l("Machine fault"),
    AlertKind.unauthorised_use: _l("Used without a booking"),
    AlertKind.overstay: _l("Running past the booking"),
    AlertKind.unknown_device: _l("Unregistered devices"),
    AlertKind.command_failed: _l("Command not acknowledged"),
}
STATES = {"open": _l("Open"), "closed": _l("Resolved"), "all": _l("All")}
DONE = {
    "ack": _l("The alert is acknowledged."),
    "resolve": _l("The alert is resolved."),
}
SHOWN = 200


@dataclass(frozen=True)
class Shown:
    """An alert as the page shows it: the row, names of who handled it, its site's zone."""

    row: AlertRow
    acknowledged_by: str | None
    closed_by: str | None

    @property
    def zone(self) -> ZoneInfo:
        return self.row.site.zone if self.row.site else site_zone()


def _sites() -> list[Site]:
    db = get_session()
    sites = visible_sites(session=db, principal=g.principal)
    return list_sites(session=db) if sites is None else sites


def _since(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time(), site_zone())
    except ValueError:
        raise BadRequest("unreadable day", code="invalid_day") from None


@bp.get("/ops/alerts")
@staff_required
def alerts() -> str:
    args = request.args
    site = args.get("site") or None
    kind = args.get("kind") or None
    state = args.get("state") or "open"
    if kind not in (None, *AlertKind) or state not in STATES:
        raise BadRequest("unknown filter", code="invalid_choice")
    sites = _sites()
    if site is not None and site not in {s.slug for s in sites}:
        raise BadRequest("unknown site", code="invalid_choice")
    db = get_session()
    rows = rules.list_alerts(
        session=db,
        principal=g.principal,
        site=site,
        kind=AlertKind(kind) if kind else None,
        state=None if state == "all" else AlertState(state),
        since=_since(args.get("since", "")),
        limit=SHOWN,
    )
    ids = {i for r in rows for i in (r.alert.acknowledged_by, r.alert.closed_by) if i}
    names = account_names(session=db, account_ids=ids)
    shown = [
        Shown(r, names.get(r.alert.acknowledged_by or 0), names.get(r.alert.closed_by or 0))
        for r in rows
    ]
    return render_page(
        "ops_alerts/index.html",
        alerts=shown,
        labels=KIND_LABELS,
        sites=[(s.slug, local_name(s)) for s in sites],
        kinds=[(k.value, str(v)) for k, v in KIND_LABELS.items()],
        states=[(k, str(v)) for k, v in STATES.items()],
        chosen={
            "site": site or "",
            "kind": kind or "",
            "state": state,
            "since": args.get("since", ""),
        },
        note_max=NOTE_MAX,
        shown_max=SHOWN,
    )


@bp.post("/ops/alerts/<int:alert_id>/<action>")
@staff_required
def act(alert_id: int, action: str) -> BaseResponse:
    """Acknowledge or resolve one alert, then back to the list as it was filtered."""
    handle = {"ack": rules.acknowledge, "resolve": rules.resolve}.get(action)
    back = same_site(request.form.get("next"), url_for(".alerts"))
    if handle is None:
        raise BadRequest("unknown action", code="invalid_choice")
    db = get_session()
    try:
        handle(
            session=db,
            now=now(),
            principal=g.principal,
            alert_id=alert_id,
            note=request.form.get("note", ""),
        )
    except DomainError as exc:
        db.rollback()
        if exc.status in (403, 404):
            raise
        flash(refusal(exc), "error")
        return redirect(back)
    db.commit()
    flash(str(DONE[action]), "success")
    return redirect(back)
