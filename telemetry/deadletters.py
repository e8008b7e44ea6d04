"""Messages that break the contract: kept, counted per source and reason, logged once.

Every refused message adds to its counter (`dead_letter_count`, per source and reason)
and is logged the first time its source sends that reason. Each is also kept as a row
(topic, reason, first KiB of payload), except beyond the bound a caller sets with `keep`:
messages of unregistered devices keep rows for the first
`service.rules.unknown_devices.KEPT_LETTERS` messages of each unknown-device alert
(one per site while open) and are only counted after that, so made-up names cannot grow
the table without bound. The scheduler deletes rows older than `[telemetry]
dead_letter_retention_days` (`service.rules.dead_letters`); counters stay.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from devices.contract import InvalidMessage, parse_topic
from service.models import DeadLetter, DeadLetterCount

log = logging.getLogger(__name__)

KEEP_BYTES = 1024
_COUNTS = DeadLetterCount.__table__  # type: ignore[attr-defined]


def _clean(text: str, limit: int) -> str:
    # PostgreSQL text takes neither NUL nor lone surrogates.
    safe = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return safe[:limit]


def _source(topic: str) -> tuple[str | None, str | None]:
    try:
        parts = parse_topic(topic, root=None)
    except InvalidMessage:
        return None, None
    return parts.site, parts.device


def dead_letter(
    *, session: Session, now: datetime, topic: str, reason: str, payload: bytes
) -> None:
    """Keep one refused message with its reason."""
    dead_letters(session=session, now=now, letters=[(topic, reason, payload)])


def dead_letters(
    *,
    session: Session,
    now: datetime,
    letters: Sequence[tuple[str, str, bytes]],
    count_as: str | None = None,
    keep: int | None = None,
) -> None:
    """Keep refused messages as (topic, reason, payload), count them, log each kind once.

    `count_as` counts them all under one source (e.g. "seongsu/*" for devices nobody
    registered), so that made-up names add no counters. `keep` bounds how many of them
    are stored as rows (the first ones); every one is counted all the same.
    """
    if not letters:
        return
    counts: dict[tuple[str, str], int] = {}
    for index, (topic, reason, payload) in enumerate(letters):
        site, device = _source(topic)
        reason = _clean(reason, 64)
        source = count_as or (f"{site}/{device}" if site is not None else "-")
        counts[(source, reason)] = counts.get((source, reason), 0) + 1
        if keep is not None and index >= keep:
            continue
        session.add(
            DeadLetter(
                at=now,
                topic=_clean(topic, 512),
                site=site,
                device=device,
                reason=reason,
                payload=bytes(payload[:KEEP_BYTES]),
                size=len(payload),
            )
        )
    connection = session.connection()
    for (source, reason), added in sorted(counts.items()):
        total = _count(connection, now, source, reason, added)
        if total == added:
            # The first of its kind from this source: say so once, then only count.
            log.warning("dead letter from %s: %s (counting further ones silently)", source, reason)


def _count(connection: Connection, now: datetime, source: str, reason: str, added: int) -> int:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(_COUNTS).values(
        source=source, reason=reason, count=added, first_at=now, last_at=now
    )
    statement = insert.on_conflict_do_update(
        index_elements=["source", "reason"],
        set_={"count": _COUNTS.c.count + added, "last_at": insert.excluded.last_at},
    ).returning(_COUNTS.c.count)
    return int(connection.execute(statement).scalar_one())
