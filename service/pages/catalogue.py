"""The catalogue: centers and their machines and rooms, and what is free when."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, g, request

from ..api.context import now
from ..db import get_session
from ..errors import RuleViolation
from ..models import ResourceKind
from ..rules.availability import free_intervals_many
from ..rules.catalogue import list_sites, load_resource, resources_with_sites
from ..rules.intervals import covers
from ..rules.timeline import week_timeline
from .auth import login_required
from .booking import View
from .cells import GLYPHS, PARTS, STATES, week_rows
from .i18n import local_name, site_zone
from .messages import KINDS, refusal
from .render import render_page

bp = Blueprint("browse", __name__, template_folder="templates")


def _filters() -> tuple[str | None, ResourceKind | None]:
    """The site slug and kind asked for; unknown values mean no filter."""
    site = request.args.get("site") or None
    kind = request.args.get("kind", "")
    return site, ResourceKind(kind) if kind in ResourceKind.__members__ else None


@bp.get("/resources")
@login_required
def resources() -> str:
    db = get_session()
    site, kind = _filters()
    return render_page(
        "browse/list.html",
        block="results",
        **_options(),
        site=site,
        kind=kind,
        pairs=resources_with_sites(session=db, site=site, kind=kind),
    )


@bp.get("/resources/<int:resource_id>")
@login_required
def resource(resource_id: int) -> str:
    """A machine or room, and its week: free, taken, closed or let, as its viewer may book it."""
    db = get_session()
    found, site = load_resource(session=db, resource_id=resource_id)
    moment = now()
    week = week_timeline(
        session=db,
        site=site,
        resources=[(found, site)],
        day=moment.astimezone(site.zone).date(),
        now=moment,
        account_id=g.principal.id,
    )
    return render_page(
        "browse/detail.html",
        resource=found,
        site=site,
        timeline=week,
        rows=week_rows(week, found.kind),
        view=View.week,
        states=STATES,
        glyphs=GLYPHS,
        parts=PARTS,
    )


def _options() -> dict[str, list[tuple[str, str]]]:
    """The choices of the filter forms, named in the page's language."""
    return {
        "site_options": [(s.slug, local_name(s)) for s in list_sites(session=get_session())],
        "kind_options": [(kind.value, str(label)) for kind, label in KINDS.items()],
    }


def _clock(text: str | None, default: time) -> time:
    try:
        return time.fromisoformat(text) if text else default
    except ValueError:
        return default


@bp.get("/free")
@login_required
def free() -> str:
    """Every resource (of a kind, at a site) free for the whole of one span of one day."""
    db = get_session()
    zone = site_zone()
    site, kind = _filters()
    kind = kind or ResourceKind.machine
    try:
        day = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        day = (now().astimezone(zone) + timedelta(days=1)).date()
    opens, closes = (
        _clock(request.args.get("from"), time(10)),
        _clock(request.args.get("to"), time(12)),
    )
    start = datetime.combine(day, opens, zone)
    end = datetime.combine(day, closes, zone)
    error = None
    found = []
    if end <= start:
        error = refusal(RuleViolation("the end is not after the start", code="invalid_range"))
    else:
        pairs = resources_with_sites(session=db, site=site, kind=kind)
        free = free_intervals_many(
            session=db,
            resources=pairs,
            start=start,
            end=end,
            now=now(),
            account_id=g.principal.id,
        )
        found = [(r, s) for r, s in pairs if covers(free[r.id or 0], start, end)]
    return render_page(
        "browse/free.html",
        block="results",
        **_options(),
        site=site,
        kind=kind,
        day=day,
        opens=opens,
        closes=closes,
        error=error,
        pairs=found,
    )
