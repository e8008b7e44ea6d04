"""Who may say what: the server's own check of the device a message claims to come from.

The broker's ACL should already keep each device to its own `{site}/{device}` topics;
this is the second line, for a broker that is misconfigured or open to anyone:

- a `cmd/ack` counts only from the device its command was sent to; an ack naming a
  command of another device, or no command at all, settles nothing;
- a badge tap counts only from a registered reader bound to a resource, and then acts
  only on that resource's reservations (`access.answer_badge` decides at that resource).

Each refusal has a reason code; the listener keeps the message as a dead letter under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from ..models import Device, DeviceCommand, Site

ACK_FROM_WRONG_DEVICE = "ack_from_wrong_device"
ACK_UNKNOWN_COMMAND = "ack_unknown_command"
BADGE_FROM_UNBOUND_DEVICE = "badge_from_unbound_device"
_CHUNK = 500


@dataclass(frozen=True)
class AckClaim:
    """A cmd/ack as received: the device its topic names, and the command id it answers."""

    site: str
    device: str
    uid: str
    ok: bool


def ack_refusals(*, session: Session, acks: Sequence[AckClaim]) -> list[tuple[AckClaim, str]]:
    """The acks that must not settle their command, each with the reason."""
    targets: dict[str, tuple[str, str]] = {}
    uids = sorted({ack.uid for ack in acks})
    for start in range(0, len(uids), _CHUNK):
        rows = session.exec(
            select(DeviceCommand.uid, Site.slug, Device.slug)
            .join(Device, col(Device.id) == col(DeviceCommand.device_id))
            .join(Site, col(Site.id) == col(Device.site_id))
            .where(col(DeviceCommand.uid).in_(uids[start : start + _CHUNK]))
        ).all()
        targets.update((uid, (site, device)) for uid, site, device in rows)
    refused = []
    for ack in acks:
        target = targets.get(ack.uid)
        if target is None:
            refused.append((ack, ACK_UNKNOWN_COMMAND))
        elif target != (ack.site, ack.device):
            refused.append((ack, ACK_FROM_WRONG_DEVICE))
    return refused


def badge_refusal(*, resource_id: int | None) -> str | None:
    """Why a registered reader's tap is not taken (None: it is), given its binding."""
    return BADGE_FROM_UNBOUND_DEVICE if resource_id is None else None
