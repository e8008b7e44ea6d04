"""Commands to devices: created once by key, claimed for sending, retried until acknowledged.

Every step is a conditional write, so two schedulers working on the same rows never
send a command twice: a key is inserted once, and a send is claimed by the UPDATE
that moves the command on from the state it was read in.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Insert, case, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from ..models import AlertKind, CommandState, Device, DeviceCommand, Site
from .audit import record
from .devices import open_alert, subject_of
from .senders import AckClaim, ack_refusals

# Actions that change what a machine may do; a newer one makes older ones moot.
SWITCHING = ("enable", "disable")
_OPEN = (CommandState.pending, CommandState.sent)
_CHUNK = 500


@dataclass(frozen=True)
class CommandSpec:
    """A command to create, identified by `key` (created at most once)."""

    key: str
    device_id: int
    resource_id: int
    action: str
    due_at: datetime
    reservation_id: int | None = None
    until: datetime | None = None
    message: str = ""
    source: str = "slot"
    # Created as already decided against (e.g. a disable skipped at a hand-over).
    state: CommandState = CommandState.pending
    # The id on the wire; a fresh one unless the caller needs to know it beforehand.
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class Outgoing:
    """A claimed command ready to publish on {site}/{device}/cmd."""

    uid: str
    site: str
    device: str
    action: str
    reservation_id: int | None
    until: datetime | None
    message: str


def _insert_ignoring_duplicates(session: Session) -> Any:
    table: Any = DeviceCommand.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        stmt: Insert = postgresql.insert(table).on_conflict_do_nothing(index_elements=["key"])
    else:
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=["key"])
    return stmt


def create_commands(
    *, session: Session, now: datetime, specs: Sequence[CommandSpec], sent: bool = False
) -> list[int]:
    """Insert the commands whose key is new; return their ids (in the caller's transaction).

    With `sent=True` they are recorded as published now (the caller publishes at once).
    A new enable or disable supersedes the device's older open commands.
    """
    if not specs:
        return []
    rows = [_row(spec, now, sent) for spec in specs]
    # One statement compiled once; SQLAlchemy sends the rows in multi-row batches.
    stmt = _insert_ignoring_duplicates(session).returning(col(DeviceCommand.id))
    created = [row_id for row_id in session.execute(stmt, rows).scalars() if row_id is not None]
    switching = {s.device_id for s in specs if s.action in SWITCHING and s.state in _OPEN}
    if created and switching:
        session.execute(
            update(DeviceCommand)
            .where(
                col(DeviceCommand.device_id).in_(switching),
                col(DeviceCommand.state).in_(_OPEN),
                col(DeviceCommand.action).in_((*SWITCHING, "warn")),
                col(DeviceCommand.id) < min(created),
            )
            .values(state=CommandState.superseded)
        )
    return created


def _row(spec: CommandSpec, now: datetime, sent: bool) -> dict[str, Any]:
    return {
        "uid": spec.uid,
        "key": spec.key,
        "device_id": spec.device_id,
        "resource_id": spec.resource_id,
        "reservation_id": spec.reservation_id,
        "action": spec.action,
        "until": spec.until,
        "message": spec.message[:300],
        "source": spec.source,
        "state": CommandState.sent if sent else spec.state,
        "created_at": now,
        "due_at": spec.due_at,
        "next_try_at": None if spec.state not in _OPEN else spec.due_at,
        "sent_at": now if sent else None,
        "acked_at": None,
        "tries": 1 if sent else 0,
    }


def outgoing(*, session: Session, ids: Sequence[int]) -> list[Outgoing]:
    """The commands `ids` with their topic parts, in id order."""
    found: list[Outgoing] = []
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            sa_select(
                col(DeviceCommand.uid),
                col(Site.slug),
                col(Device.slug),
                col(DeviceCommand.action),
                col(DeviceCommand.reservation_id),
                col(DeviceCommand.until),
                col(DeviceCommand.message),
            )
            .join(Device, col(Device.id) == col(DeviceCommand.device_id))
            .join(Site, col(Site.id) == col(Device.site_id))
            .where(col(DeviceCommand.id).in_(ids[start : start + _CHUNK]))
            .order_by(col(DeviceCommand.id))
        ).all()
        found.extend(Outgoing(*row) for row in rows)
    return found


def claim_first_sends(*, session: Session, now: datetime, retry: timedelta) -> list[int]:
    """Claim every pending command that is due: one UPDATE moves them to `sent`."""
    result = session.execute(
        update(DeviceCommand)
        .where(
            col(DeviceCommand.state) == CommandState.pending,
            col(DeviceCommand.next_try_at) <= now,
        )
        .values(state=CommandState.sent, tries=1, sent_at=now, next_try_at=now + retry)
        .returning(col(DeviceCommand.id))
    )
    return list(result.scalars())


def claim_retries(
    *, session: Session, now: datetime, retry: timedelta, max_tries: int
) -> list[int]:
    """Claim the sent commands whose ack is overdue and are worth sending again.

    A command past its last try fails and raises an alert; one that no longer
    helps (an enable or warn after its `until`, a badge answer) expires.
    """
    overdue = session.exec(
        select(DeviceCommand)
        .where(
            col(DeviceCommand.state) == CommandState.sent,
            col(DeviceCommand.next_try_at) <= now,
        )
        .order_by(col(DeviceCommand.id))
        .limit(_CHUNK)
    ).all()
    claimed: list[int] = []
    for command in overdue:
        if command.source == "badge" and command.action == "deny":
            _move(session, command, state=CommandState.expired)
        elif command.until is not None and command.until <= now and command.action != "disable":
            _move(session, command, state=CommandState.expired)
        elif command.tries >= max_tries:
            if _move(session, command, state=CommandState.failed):
                _command_failed(session=session, now=now, command=command)
        elif _move(
            session,
            command,
            state=CommandState.sent,
            tries=command.tries + 1,
            sent_at=now,
            next_try_at=now + retry * (2**command.tries),
        ):
            claimed.append(command.id or 0)
    return claimed


def _move(session: Session, command: DeviceCommand, **values: Any) -> bool:
    """Update the command only if no one else moved it since it was read."""
    result: Any = session.execute(
        update(DeviceCommand)
        .where(
            col(DeviceCommand.id) == command.id,
            col(DeviceCommand.state) == command.state,
            col(DeviceCommand.tries) == command.tries,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def _command_failed(*, session: Session, now: datetime, command: DeviceCommand) -> None:
    device = session.get(Device, command.device_id)
    site = session.get(Site, device.site_id) if device is not None else None
    subject = (
        subject_of(site.slug, device.slug) if site and device else f"device:{command.device_id}"
    )
    open_alert(
        session=session,
        now=now,
        kind=AlertKind.command_failed,
        subject=subject,
        message=(
            f"{command.action} (command {command.uid}) was not acknowledged "
            f"after {command.tries} tries"
        ),
        site_id=site.id if site else None,
        resource_id=command.resource_id,
        device_id=command.device_id,
    )
    record(
        session=session,
        now=now,
        actor_id=None,
        action="command.failed",
        subject=f"command:{command.uid}",
        command_action=command.action,
        tries=command.tries,
    )


def acknowledge(*, session: Session, now: datetime, acks: Sequence[AckClaim]) -> int:
    """Record devices' cmd/acks; returns how many settled a known command.

    Only an ack from the device the command was sent to counts (`senders.ack_refusals`).
    A late ack still settles a command that failed or expired meanwhile.
    """
    refused = {ack for ack, _ in ack_refusals(session=session, acks=acks)}
    taken = [ack for ack in acks if ack not in refused]
    settled = 0
    for ok in (True, False):
        uids = sorted({ack.uid for ack in taken if ack.ok is ok})
        if not uids:
            continue
        result: Any = session.execute(
            update(DeviceCommand)
            .where(col(DeviceCommand.uid).in_(uids), col(DeviceCommand.acked_at).is_(None))
            .values(
                acked_at=now,
                next_try_at=None,
                state=case(
                    (
                        col(DeviceCommand.state).in_(
                            (CommandState.sent, CommandState.failed, CommandState.expired)
                        ),
                        CommandState.acked if ok else CommandState.refused,
                    ),
                    else_=col(DeviceCommand.state),
                ),
            )
            .execution_options(synchronize_session=False)
        )
        settled += result.rowcount
    return settled
