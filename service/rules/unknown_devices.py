"""Devices nobody registered: one open alert per site, which expires when they go quiet.

Anyone who can reach the broker can make up device names; an alert per name would let
a flood of them grow the alert table without bound. So each site has at most one open
unknown_device alert, counting the messages and keeping the last few names, and the
scheduler closes it once no such message came for a while (the next one opens anew).

Their messages are dead letters too, counted on one counter per site; of each alert's
messages only the first KEPT_LETTERS are stored as dead-letter rows (the ones an operator
reads to see what was sent), the rest are counted on the alert and the counter only.
With the alert closing after `unknown_device_quiet_min` of quiet, a site stores at most
KEPT_LETTERS such rows per alert, however many names or messages a flood makes up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from ..models import Alert, AlertKind, Site
from .devices import open_alert, subject_of

# How many of the names seen last an alert keeps.
RECENT_NAMES = 5
# How many of an alert's messages are kept as dead-letter rows (the rest are counted).
KEPT_LETTERS = 100
# The subject of the alert for devices at sites that do not exist either.
NO_SITE = "*"


def group_subject(site_slug: str | None) -> str:
    """What the grouped alert of a site is about, e.g. "seongsu/*"."""
    return NO_SITE if site_slug is None else subject_of(site_slug, "*")


@dataclass(frozen=True)
class UnknownGroup:
    """The alert that counts the messages of these unregistered (site, device) names."""

    alert: Alert
    devices: list[tuple[str, str]]
    # Messages the alert had counted before this batch.
    earlier: int = 0

    @property
    def letters_to_keep(self) -> int:
        """How many of this batch's messages are still kept as dead-letter rows."""
        return max(0, KEPT_LETTERS - self.earlier)


def note_unknown_devices(
    *, session: Session, now: datetime, seen: Mapping[tuple[str, str], int]
) -> list[UnknownGroup]:
    """Count messages from unregistered devices, `seen` as (site, device) → messages, on
    their site's open alert, raised if there is none; the groups in the order first seen."""
    if not seen:
        return []
    slugs = sorted({site for site, _ in seen})
    site_ids = dict(session.exec(select(Site.slug, Site.id).where(col(Site.slug).in_(slugs))).all())
    groups: dict[str | None, list[tuple[str, str]]] = {}
    for site, device in seen:
        groups.setdefault(site if site in site_ids else None, []).append((site, device))
    found = []
    for slug, keys in groups.items():
        names = [(subject_of(*key), seen[key]) for key in keys]
        alert = _note_group(session, now, slug, site_ids.get(slug or ""), names)
        found.append(UnknownGroup(alert, keys, alert.count - sum(n for _, n in names)))
    return found


def _note_group(
    session: Session,
    now: datetime,
    site: str | None,
    site_id: int | None,
    names: Sequence[tuple[str, int]],
) -> Alert:
    subject = group_subject(site)
    where = "unknown sites" if site is None else site
    found = open_alert(
        session=session,
        now=now,
        kind=AlertKind.unknown_device,
        subject=subject,
        message=f"messages from devices nobody registered at {where}",
        site_id=site_id,
    )
    session.flush()
    # Two listeners may count on the same alert: take its row and read it afresh.
    alert = session.exec(
        select(Alert)
        .where(Alert.id == found.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    fresh = alert.last_at is None
    alert.count = sum(n for _, n in names) + (0 if fresh else alert.count)
    newest = [name for name, _ in names[-RECENT_NAMES:]][::-1]
    alert.recent = [*newest, *(n for n in alert.recent if n not in newest)][:RECENT_NAMES]
    alert.last_at = now
    session.add(alert)
    return alert


def expire_quiet(*, session: Session, now: datetime, quiet: timedelta) -> int:
    """Close the unknown-device alerts nothing was heard about for `quiet`; how many."""
    result = session.execute(
        update(Alert)
        .where(
            col(Alert.kind) == AlertKind.unknown_device,
            col(Alert.closed_at).is_(None),
            func.coalesce(col(Alert.last_at), col(Alert.opened_at)) < now - quiet,
        )
        .values(closed_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
