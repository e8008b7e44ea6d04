"""Dead letters for operators: messages the listener refused, why, and how many.

The payload is shown as received (its first KiB), as text and escaped by the template:
a device, or whoever pretends to be one, writes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, g, request

from telemetry.status import dead_letter_reasons, list_dead_letters

from ..db import get_session
from ..errors import BadRequest
from ..models import DeadLetter
from ..rules.catalogue import list_sites, visible_sites
from .auth import staff_required
from .i18n import local_name
from .render import render_page

bp = Blueprint("ops_dead_letters", __name__, template_folder="templates")

PAGE = 50
PREVIEW = 160


@dataclass(frozen=True)
class Letter:
    letter: DeadLetter
    text: str

    @property
    def preview(self) -> str:
        return self.text[:PREVIEW]

    @property
    def cut(self) -> bool:
        return len(self.text) > PREVIEW


def readable(payload: bytes) -> str:
    """The payload as text; bytes that are not UTF-8 as \\x escapes (as the API does)."""
    return bytes(payload).decode("utf-8", "backslashreplace").replace("\x00", "\\x00")


def _number(text: str | None) -> int | None:
    if not text:
        return None
    if not text.isdigit() or len(text) > 12:
        raise BadRequest("not a number", code="invalid_choice")
    return int(text)


@bp.get("/ops/dead-letters")
@staff_required
def dead_letters() -> str:
    db = get_session()
    site = request.args.get("site") or None
    reason = request.args.get("reason") or None
    before_id = _number(request.args.get("before"))
    mine = visible_sites(session=db, principal=g.principal)
    choices = list_sites(session=db) if mine is None else mine
    if site is not None and site not in {s.slug for s in choices}:
        raise BadRequest("unknown site", code="invalid_choice")
    sites = visible_sites(session=db, principal=g.principal, site=site)
    slugs = None if sites is None else [s.slug for s in sites]
    letters = list_dead_letters(
        session=db,
        site_slugs=slugs,
        reason=reason[:64] if reason else None,
        before_id=before_id,
        limit=PAGE + 1,
    )
    reasons = dead_letter_reasons(session=db, site_slugs=slugs)
    older = letters[PAGE - 1].id if len(letters) > PAGE else None
    return render_page(
        "ops_dead_letters/index.html",
        letters=[Letter(d, readable(d.payload)) for d in letters[:PAGE]],
        reasons=reasons,
        reason_options=[(r, r) for r, _ in reasons],
        sites=[(s.slug, local_name(s)) for s in choices],
        chosen={"site": site or "", "reason": reason or ""},
        older=older,
    )
