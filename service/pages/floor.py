"""The operator's live floor: a tile per machine and room of a site, kept current by SSE.

The page draws every tile; `/ops/floor/stream` then polls the devices' columns and
sends each tile that changed as a server-sent event whose data is the same macro's
HTML, so the page and its updates never drift apart. The stream holds a database
connection only while it reads, never while it waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    get_template_attribute,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import NotFound

from telemetry.status import live_status

from ..api.context import now
from ..db import get_session
from ..models import AlertKind, Resource, ResourceKind, Site
from ..rules.catalogue import list_sites, visible_sites
from ..rules.floor import FloorState, Tile, device_marks, floor_tiles, site_alerts
from .auth import staff_required
from .i18n import language, local_name
from .messages import KINDS
from .render import render_page

bp = Blueprint("ops_floor", __name__, template_folder="templates")

# How often an open floor asks the database what changed, and how often it redraws every
# tile anyway (remaining time and last-seen age move without any message).
POLL_SECONDS = 0.25
REDRAW_SECONDS = 10.0
KEEPALIVE_SECONDS = 15.0
# A browser's EventSource reconnects by itself; ending streams now and then lets a
# worker's connections turn over and a new deploy take over.
STREAM_SECONDS = 300.0

STATES = {
    FloorState.blacked_out: (_l("Blacked out"), "▨"),
    FloorState.offline: (_l("Offline"), "✕"),
    FloorState.fault: (_l("Fault"), "⚠"),
    FloorState.running: (_l("Running"), "▶"),
    FloorState.occupied: (_l("Occupied"), "●"),
    FloorState.reserved: (_l("Reserved, not started"), "◔"),
    FloorState.rented: (_l("Let to a tenant"), "⌂"),
    FloorState.idle: (_l("Idle"), "■"),
    FloorState.free: (_l("Free"), "○"),
}
ALERT_KINDS = {
    AlertKind.offline: _l("Offline"),
    AlertKind.fault: _l("Fault"),
    AlertKind.unauthorised_use: _l("Used without a booking"),
    AlertKind.overstay: _l("Overstay"),
    AlertKind.unknown_device: _l("Unknown device"),
    AlertKind.command_failed: _l("Command failed"),
}


def machine_link(site: Site, resource: Resource) -> str:
    """The machine's own page."""
    return url_for("ops_machines.machine", site=site.slug, slug=resource.slug)


@bp.app_template_filter("span")
def span(value: timedelta | None) -> str:
    """A short duration as people say it: '45 s', '12 min', '2 h 5 min'."""
    if value is None:
        return "–"
    seconds = int(value.total_seconds())
    if seconds < 60:
        return _("%(num)d s", num=seconds)
    minutes = seconds // 60
    if minutes < 60:
        return _("%(num)d min", num=minutes)
    return _("%(hours)d h %(minutes)d min", hours=minutes // 60, minutes=minutes % 60)


def _choice() -> tuple[list[Site], Site, ResourceKind | None]:
    """The sites this person may watch, the one asked for (else the first), and the kind."""
    db = get_session()
    visible = visible_sites(session=db, principal=g.principal)
    sites = list_sites(session=db) if visible is None else visible
    slug = request.args.get("site") or None
    if slug is not None:
        # A site not theirs (or none such) is refused, not silently replaced.
        site = visible_sites(session=db, principal=g.principal, site=slug) or []
        chosen = site[0]
    elif sites:
        chosen = sites[0]
    else:
        raise NotFound()
    kind = request.args.get("kind", "")
    return sites, chosen, ResourceKind(kind) if kind in ResourceKind.__members__ else None


def _tiles(site_id: int, kind: ResourceKind | None, ids: set[int] | None = None) -> list[Tile]:
    db = get_session()
    lives = live_status(session=db, site_ids=[site_id], resource_ids=ids)
    return floor_tiles(session=db, now=now(), lives=lives, kind=kind)


@bp.get("/ops/floor")
@staff_required
def floor() -> str:
    sites, site, kind = _choice()
    tiles = _tiles(site.id or 0, kind)
    return render_page(
        "ops_floor/floor.html",
        site=site,
        kind=kind,
        site_options=[(s.slug, local_name(s)) for s in sites],
        kind_options=[(k.value, str(label)) for k, label in KINDS.items()],
        tiles=[(tile, machine_link(site, tile.resource)) for tile in tiles],
        alerts=site_alerts(session=get_session(), site_id=site.id or 0),
        states=STATES,
        alert_kinds=ALERT_KINDS,
        stream=url_for(".stream", site=site.slug, kind=kind.value if kind else None),
    )


@bp.get("/ops/floor/stream")
@staff_required
def stream() -> Response:
    _sites, site, kind = _choice()
    site_id = site.id or 0
    language()  # chosen now, from the account, and kept for the stream's whole life
    # The login was read on the request's connection: give it back before waiting.
    get_session().close()
    slots = _stream_slots()
    if slots is not None and not slots.acquire(blocking=False):
        # 204 tells the browser's EventSource not to come back: the page still works, and
        # the worker keeps its threads for everyone else's requests.
        return Response(status=204)
    response = Response(
        stream_with_context(_events(site_id, kind)),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
    if slots is not None:
        # The server closes the response when the stream ends or the browser goes away.
        response.call_on_close(slots.release)
    return response


_slots_lock = threading.Lock()


def _stream_slots() -> threading.BoundedSemaphore | None:
    """How many streams this process may hold open at once; None when there is no limit.

    Under gunicorn's gevent worker (`smartfab web`) a waiting stream is a parked greenlet
    and costs no request thread; werkzeug's server (tests) starts a thread per request.
    A server with a fixed pool of threads (waitress in `run` and `demo`, gunicorn's
    gthread) would give each open stream one of them: at most half of them stream.
    """
    environ = request.environ
    pooled = "waitress.client_disconnected" in environ or (
        str(environ.get("SERVER_SOFTWARE", "")).startswith("gunicorn") and not _cooperative()
    )
    if not pooled:
        return None
    with _slots_lock:
        slots = current_app.extensions.get("smartfab.floor_streams")
        if slots is None:
            threads = current_app.config["SMARTFAB"].web.threads
            slots = threading.BoundedSemaphore(max(1, threads // 2))
            current_app.extensions["smartfab.floor_streams"] = slots
    return slots


def _cooperative() -> bool:
    """Whether this process runs on gevent's patched threads (a greenlet per request)."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return bool(monkey.is_module_patched("threading"))


def _events(site_id: int, kind: ResourceKind | None) -> Iterator[str]:
    tile_macro = get_template_attribute("ops_floor/tiles.html", "tile")
    alerts_macro = get_template_attribute("ops_floor/tiles.html", "alerts")
    seconds = current_app.config.get("FLOOR_STREAM_SECONDS", STREAM_SECONDS)
    sent: dict[str, str] = {}
    marks: dict[int, tuple[object, ...]] = {}
    started = redrawn = spoke = time.monotonic()
    yield "retry: 1000\n\n"
    # waitress tells when the browser has gone; other servers find out on the next write.
    gone = request.environ.get("waitress.client_disconnected", lambda: False)
    while time.monotonic() - started < seconds and not gone():
        fresh = _shared_marks(site_id)
        changed = {rid for rid, mark in fresh.items() if marks.get(rid) != mark}
        redraw = time.monotonic() - redrawn >= REDRAW_SECONDS or not sent
        marks = fresh
        events = []
        if changed or redraw:
            db = get_session()
            g.pop("now", None)
            try:
                for tile in _tiles(site_id, kind, None if redraw else changed):
                    html = str(tile_macro(tile, STATES, machine_link(tile.site, tile.resource)))
                    events.append((f"tile-{tile.resource.id}", html))
                if redraw:
                    redrawn = time.monotonic()
                    alerts = site_alerts(session=db, site_id=site_id)
                    events.append(("alerts", str(alerts_macro(alerts, ALERT_KINDS))))
            finally:
                # Hold no connection (and on SQLite no read snapshot) while waiting.
                db.close()
        for name, html in events:
            if sent.get(name) != html:
                sent[name] = html
                spoke = time.monotonic()
                yield _event(name, html)
        if time.monotonic() - spoke >= KEEPALIVE_SECONDS:
            spoke = time.monotonic()
            yield ": keep-alive\n\n"
        time.sleep(POLL_SECONDS)


_marks_lock = threading.Lock()


def _shared_marks(site_id: int) -> dict[int, tuple[object, ...]]:
    """The site's device marks, read once per poll for every open floor of this process.

    Fifty floors of one site then cost one small query per poll, not fifty.
    """
    cache: dict[int, tuple[float, dict[int, tuple[object, ...]]]] = (
        current_app.extensions.setdefault("smartfab.floor_marks", {})
    )
    with _marks_lock:
        read_at, marks = cache.get(site_id, (float("-inf"), {}))
        if time.monotonic() - read_at < POLL_SECONDS * 0.9:
            return marks
        db = get_session()
        try:
            marks = device_marks(session=db, site_id=site_id)
        finally:
            db.close()
        cache[site_id] = (time.monotonic(), marks)
        return marks


def _event(name: str, data: str) -> str:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {name}\n{lines}\n"
