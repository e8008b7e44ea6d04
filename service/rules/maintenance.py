"""Staff acting on one machine: maintenance blackouts, and switching it on or off by hand.

A blackout is read by availability at once, so its slots stop being offered the moment it
is stored; switching goes through the command queue, so the scheduler sends it like any
other command. Every change is audited with its reason.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session, col, select

from ..errors import NotFound, RuleViolation
from ..models import Blackout, Device, Resource
from .accounts import Principal
from .audit import record
from .catalogue import watched_resource
from .commands import SWITCHING, CommandSpec, create_commands

MAX_REASON = 300


def _reason(text: str) -> str:
    reason = " ".join(text.split())
    if not reason:
        raise RuleViolation("say why", code="reason_required")
    return reason[:MAX_REASON]


def create_blackout(
    *,
    session: Session,
    now: datetime,
    actor: Principal,
    resource_id: int,
    start: datetime,
    end: datetime,
    reason: str,
) -> Blackout:
    """Close the resource for maintenance in [start, end); staff of its site only."""
    resource, site = watched_resource(session=session, principal=actor, resource_id=resource_id)
    if end <= start:
        raise RuleViolation("the end must be after the start", code="invalid_range")
    if end <= now:
        raise RuleViolation("the blackout would be over already", code="in_the_past")
    blackout = Blackout(
        site_id=site.id or 0,
        resource_id=resource.id,
        start_at=start,
        end_at=end,
        reason=_reason(reason),
    )
    session.add(blackout)
    session.flush()
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="blackout.created",
        subject=f"resource:{resource.id}",
        blackout=blackout.id,
        start=start.isoformat(),
        end=end.isoformat(),
        reason=blackout.reason,
    )
    return blackout


def end_blackout(
    *, session: Session, now: datetime, actor: Principal, resource_id: int, blackout_id: int
) -> Blackout | None:
    """End the blackout now; one not yet begun is withdrawn (returns None then)."""
    resource, _ = watched_resource(session=session, principal=actor, resource_id=resource_id)
    blackout = session.get(Blackout, blackout_id)
    if blackout is None or blackout.resource_id != resource.id:
        raise NotFound(f"no blackout {blackout_id} of this resource")
    if blackout.end_at <= now:
        raise RuleViolation("the blackout is over already", code="blackout_over")
    withdrawn = blackout.start_at >= now
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action="blackout.withdrawn" if withdrawn else "blackout.ended",
        subject=f"resource:{resource.id}",
        blackout=blackout.id,
        planned_end=blackout.end_at.isoformat(),
    )
    if withdrawn:
        session.delete(blackout)
        session.flush()
        return None
    blackout.end_at = now
    session.add(blackout)
    session.flush()
    return blackout


def blackouts_ahead(*, session: Session, now: datetime, resource: Resource) -> list[Blackout]:
    """The resource's own blackouts and its site's closures not yet over, soonest first."""
    return list(
        session.exec(
            select(Blackout)
            .where(
                Blackout.site_id == resource.site_id,
                (col(Blackout.resource_id) == resource.id) | col(Blackout.resource_id).is_(None),
                col(Blackout.end_at) > now,
            )
            .order_by(col(Blackout.start_at))
            .limit(50)
        )
    )


def device_of(*, session: Session, resource: Resource) -> Device | None:
    """The device that switches the resource, if it has one."""
    return session.exec(
        select(Device).where(Device.resource_id == resource.id).order_by(col(Device.id))
    ).first()


def switch_by_hand(
    *,
    session: Session,
    now: datetime,
    actor: Principal,
    resource_id: int,
    action: str,
    reason: str,
) -> int:
    """Queue an enable or disable of the machine's device, due now; returns the command id.

    The scheduler sends it; like a slot's command it supersedes the device's older ones.
    """
    if action not in SWITCHING:
        raise RuleViolation("enable or disable", code="invalid_choice")
    resource, site = watched_resource(session=session, principal=actor, resource_id=resource_id)
    why = _reason(reason)
    device = device_of(session=session, resource=resource)
    if device is None:
        raise RuleViolation("the machine has no device to switch", code="no_device")
    spec = CommandSpec(
        key=f"manual:{device.id}:{uuid.uuid4().hex}",
        device_id=device.id or 0,
        resource_id=resource.id or 0,
        action=action,
        due_at=now,
        message=why,
        source="manual",
    )
    (command_id,) = create_commands(session=session, now=now, specs=[spec])
    record(
        session=session,
        now=now,
        actor_id=actor.id,
        action=f"machine.{action}d",
        subject=f"resource:{resource.id}",
        command=spec.uid,
        device=device.slug,
        site=site.slug,
        reason=why,
    )
    return command_id
