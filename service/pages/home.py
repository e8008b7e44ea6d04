"""The home page and the iCalendar feeds."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, abort, g, redirect
from werkzeug.wrappers import Response as BaseResponse

from ..api.context import now
from ..db import get_session
from ..ical import feed_for_secret
from ..models import BLOCKING, Reservation, ReservationStatus, Resource, Site
from ..rules.catalogue import list_sites, resources_with_sites
from ..rules.lifecycle import list_reservations
from .auth import login_required
from .i18n import local_name, site_zone
from .messages import KINDS
from .nav import role_home
from .render import render_page

bp = Blueprint("home", __name__, template_folder="templates")


@dataclass(frozen=True)
class Booking:
    """A reservation with what a person recognises it by."""

    reservation: Reservation
    resource: Resource
    site: Site


@bp.get("/")
@login_required
def index() -> str | BaseResponse:
    elsewhere = role_home(g.principal)
    if elsewhere is not None:
        return redirect(elsewhere)
    db = get_session()
    reservations = list_reservations(
        session=db, actor=g.principal, mine=True, start=now(), end=None
    )
    places = {r.id: (r, s) for r, s in resources_with_sites(session=db)}
    bookings = [Booking(r, *places[r.resource_id]) for r in reservations if r.resource_id in places]
    return render_page(
        "home/index.html",
        # The quick booking form opens the timeline.
        site_options=[(s.slug, local_name(s)) for s in list_sites(session=db)],
        kind_options=[(kind.value, str(label)) for kind, label in KINDS.items()],
        today=now().astimezone(site_zone()).date(),
        upcoming=[b for b in bookings if b.reservation.status in BLOCKING],
        cancelled=[b for b in bookings if b.reservation.status == ReservationStatus.cancelled],
    )


@bp.get("/ical/<secret>.ics")
def ical(secret: str) -> Response:
    body = feed_for_secret(session=get_session(), secret=secret, now=now())
    if body is None:
        abort(404)
    return Response(body, mimetype="text/calendar")
