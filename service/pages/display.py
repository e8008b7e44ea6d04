"""The display on a tablet beside a machine or room: no login, opened by its secret URL.

It shows first names and times only, speaks the site's language, and refreshes a
block of itself every few seconds (static/display.js says when contact is lost).
"""

from __future__ import annotations

from datetime import timedelta

import segno
from flask import Blueprint, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from ..api.context import now
from ..db import get_session
from ..languages import LOCALES, person_locale
from ..rules.display import board
from ..rules.today import site_today
from .i18n import local_name
from .render import render_page

bp = Blueprint("display", __name__, template_folder="templates")

REFRESH_SECONDS = 10


def qr_svg(url: str, title: str = "") -> Markup:
    """`url` as an inline SVG QR code, dark on white, named by `title` for screen readers."""
    code = segno.make(url, error="m")
    svg = code.svg_inline(
        scale=1, border=2, dark="#000", light="#fff", omitsize=True, title=title or None
    )
    return Markup(svg)  # noqa: S704  # segno's own SVG of our own URL


def _minutes(left: timedelta | None) -> int | None:
    return None if left is None else max(0, int(left.total_seconds() // 60))


@bp.get("/display/<secret>")
def show(secret: str) -> str:
    db, moment = get_session(), now()
    found = board(session=db, now=moment, secret=secret)
    asked = request.args.get("lang")
    locale = asked if asked in LOCALES else person_locale(None, found.site.timezone)
    booking_url = url_for(
        "book.timeline",
        site=found.site.slug,
        kind=found.resource.kind.value,
        day=site_today(found.site, moment).isoformat(),
        _external=True,
    )
    with force_locale(locale):
        return render_page(
            "display/show.html",
            block="board",
            board=found,
            zone=found.site.zone,
            remaining=_minutes(found.holder.remaining if found.holder else None),
            qr=qr_svg(
                booking_url, str(_("QR code: book %(name)s", name=local_name(found.resource)))
            ),
            booking_url=booking_url,
            refresh=REFRESH_SECONDS,
            display_lang=locale,
        )
