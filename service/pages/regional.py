"""The regional control tower (admins): every center side by side, and their utilisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import Blueprint, Response, g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from telemetry.status import live_status

from ..api.context import now
from ..api.reports import report_csv
from ..db import get_session
from ..errors import RuleViolation
from ..models import Site
from ..rules.buckets import EVERY, this_month
from ..rules.catalogue import list_sites
from ..rules.regional import STATES, CenterToday, centers_today, live_state
from ..rules.reports import Line, Report, utilisation
from .auth import admin_required
from .i18n import site_zone
from .render import render_page

bp = Blueprint("admin_regional", __name__, template_folder="templates", url_prefix="/admin")

STATE_NAMES = {
    "running": _l("Running"),
    "idle": _l("Idle"),
    "fault": _l("Fault"),
    "offline": _l("Offline"),
}
EVERY_NAMES = (("day", _l("Day")), ("week", _l("Week")), ("month", _l("Month")))


@dataclass(frozen=True)
class Center:
    site: Site
    today: CenterToday


@dataclass(frozen=True)
class Period:
    """The period the form asks for, as dates on the site's clocks (`to` inclusive)."""

    first: date
    last: date
    every: str

    @property
    def args(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "every": self.every}


def _period() -> Period:
    zone = site_zone()
    month = this_month(now(), zone)
    default_first = month.start.astimezone(zone).date()
    default_last = (month.end - timedelta(days=1)).astimezone(zone).date()
    try:
        first = date.fromisoformat(request.args.get("from") or default_first.isoformat())
        last = date.fromisoformat(request.args.get("to") or default_last.isoformat())
    except ValueError:
        raise RuleViolation(_("Dates are written YYYY-MM-DD."), code="invalid_range") from None
    every = request.args.get("every") or "day"
    if every not in EVERY:
        every = "day"
    return Period(first, last, every)


def _report(period: Period, group: str) -> Report:
    zone = site_zone()
    return utilisation(
        session=get_session(),
        now=now(),
        actor=g.principal,
        group=group,
        every=period.every,
        start=datetime.combine(period.first, time(), tzinfo=zone),
        end=datetime.combine(period.last + timedelta(days=1), time(), tzinfo=zone),
        zone=zone,
    )


def _centers() -> list[Center]:
    db = get_session()
    sites = list_sites(session=db)
    today = centers_today(
        session=db, now=now(), zone=site_zone(), site_ids=[s.id or 0 for s in sites]
    )
    for live in live_status(session=db, site_ids=None):
        if live.resource.kind == "machine":
            today[live.site.id or 0].states[live_state(live.device, live.usage)] += 1
    return [Center(site, today[site.id or 0]) for site in sites]


def _widest(lines: list[Line]) -> float:
    """The longest bar's hours, so bars compare across centers (never zero)."""
    return max([max(line.total.open_hours, 0.01) for line in lines] or [1.0])


@bp.get("/regional")
@admin_required
def regional() -> str:
    period = _period()
    by_site = _report(period, "site")
    by_kind = _report(period, "kind")
    names = {str(s.id): s for s in list_sites(session=get_session())}
    return render_page(
        "regional/index.html",
        block="report",
        centers=_centers(),
        states=STATES,
        state_names=STATE_NAMES,
        period=period,
        every_names=EVERY_NAMES,
        by_site=by_site,
        by_kind=by_kind,
        site_of=names,
        widest_site=_widest(by_site.lines),
        widest_kind=_widest(by_kind.lines),
    )


@bp.get("/regional.csv")
@admin_required
def regional_csv() -> Response:
    group = request.args.get("group") or "site"
    if group not in ("site", "kind", "resource"):
        group = "site"
    period = _period()
    report = _report(period, group)
    name = f"utilisation-{group}-{period.first}-{period.last}.csv"
    return Response(
        report_csv(report, site_zone()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
