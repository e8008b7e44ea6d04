"""How the timeline's cells read: each cell's mark, accessible name and link, made once per page.

A week has hundreds of cells; their words are built here in plain Python from
sentences translated once per page, so the template only prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlencode

from flask import url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..models import Resource, ResourceKind, Site
from ..rules.timeline import Part, State, Timeline
from .i18n import local_name

STATES = {
    State.free: _l("free"),
    State.reserved: _l("reserved"),
    State.blackout: _l("closed for maintenance or a holiday"),
    State.rented: _l("rented"),
    State.closed: _l("closed"),
    State.unavailable: _l("not bookable"),
}
# Each state has its own mark, so that no cell is told apart by colour alone.
GLYPHS = {
    State.free: "○",
    State.reserved: "●",
    State.blackout: "✕",
    State.rented: "⌂",
    State.closed: "—",
    State.unavailable: "·",
}
PARTS = {Part.morning: _l("Morning"), Part.afternoon: _l("Afternoon"), Part.evening: _l("Evening")}


def duration(minutes: int) -> str:
    """`90` as people say it: 1 h 30 min (1시간 30분)."""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=rest)
    if hours:
        return _("%(hours)d h", hours=hours)
    return _("%(minutes)d min", minutes=rest)


def long_day(day: date) -> str:
    """Tuesday, March 3, 2026 (2026년 3월 3일 화요일)."""
    return str(format_date(day, "full"))


def plain_day(day: date) -> str:
    """March 3, 2026 (2026년 3월 3일)."""
    return str(format_date(day, "long"))


def short_day(day: date) -> str:
    """Tue 3/3 (3/3 (화)): the pattern is the catalogue's."""
    return str(format_date(day, _("EEE M/d")))


def local_iso(moment: datetime, site: Site) -> str:
    """How the pages write a moment in their addresses: the site's wall-clock time."""
    return moment.astimezone(site.zone).strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True, slots=True)
class Shown:
    """One cell as the page prints it."""

    state: str
    span: int
    glyph: str
    label: str
    href: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class ShownRow:
    resource: Resource
    name: str
    cells: list[Shown]


def day_rows(timeline: Timeline) -> list[ShownRow]:
    """Rows of a day: a free cell links to the confirm page with its booking filled in."""
    site = timeline.site
    states = {state: str(label) for state, label in STATES.items()}
    sentence = _("%(resource)s, %(time)s, %(state)s")
    confirm = url_for("book.confirm")
    clock: dict[datetime, str] = {}

    def hhmm(moment: datetime) -> str:
        if moment not in clock:
            clock[moment] = moment.astimezone(site.zone).strftime("%H:%M")
        return clock[moment]

    found = []
    for row in timeline.rows:
        name = local_name(row.resource)
        cells = []
        for cell in row.cells:
            label = sentence % {
                "resource": name,
                "time": f"{hhmm(cell.start)}–{hhmm(cell.end)}",
                "state": states[cell.state],
            }
            href = None
            if cell.pick is not None:
                href = (
                    confirm
                    + "?"
                    + urlencode(
                        {
                            "resource": row.resource.id,
                            "start": local_iso(cell.pick.start, site),
                            "end": local_iso(cell.pick.end, site),
                        },
                        safe=":",
                    )
                )
            cells.append(Shown(cell.state.value, cell.span, GLYPHS[cell.state], label, href))
        found.append(ShownRow(row.resource, name, cells))
    return found


def week_rows(timeline: Timeline, kind: ResourceKind) -> list[ShownRow]:
    """Rows of a week: a free cell says how long is free and leads to its day."""
    site = timeline.site
    states = {state: str(label) for state, label in STATES.items()}
    sentence = _("%(resource)s, %(time)s, %(state)s")
    free_sentence = _("%(resource)s, %(time)s, free for %(duration)s: choose a time")
    days = [column.start.astimezone(site.zone).date() for column in timeline.columns]
    labels = {d: short_day(d) for d in set(days)}
    parts = {part: str(label) for part, label in PARTS.items()}
    when = [
        f"{labels[d]} {parts[column.part]}" if column.part else labels[d]
        for d, column in zip(days, timeline.columns, strict=True)
    ]
    base = url_for("book.timeline")
    links = {
        d: f"{base}?{urlencode({'site': site.slug, 'kind': kind.value, 'day': d})}#r"
        for d in set(days)
    }
    lengths: dict[int, str] = {}
    found = []
    for row in timeline.rows:
        name = local_name(row.resource)
        cells = []
        for index, cell in enumerate(row.cells):
            if cell.state != State.free:
                label = sentence % {
                    "resource": name,
                    "time": when[index],
                    "state": states[cell.state],
                }
                # A let room says so in words where the week has room for them.
                note = states[cell.state] if cell.state == State.rented else ""
                cells.append(
                    Shown(cell.state.value, cell.span, GLYPHS[cell.state], label, note=note)
                )
                continue
            if cell.free_minutes not in lengths:
                lengths[cell.free_minutes] = duration(cell.free_minutes)
            length = lengths[cell.free_minutes]
            label = free_sentence % {"resource": name, "time": when[index], "duration": length}
            href = f"{links[days[index]]}{row.resource.id}"
            cells.append(
                Shown(cell.state.value, cell.span, GLYPHS[cell.state], label, href, note=length)
            )
        found.append(ShownRow(row.resource, name, cells))
    return found
