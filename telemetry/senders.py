"""The listener's side of "who may say what": messages of registered devices that the
server refuses (`service.rules.senders`) are taken out of the batch before it is applied,
so they change no state, and are kept as dead letters under the rule's reason."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from devices.contract import CommandAck, Event, Message
from service.rules.senders import AckClaim, ack_refusals, badge_refusal

Key = tuple[str, str]


def screen(
    *, session: Session, live: Mapping[Key, Any], by_device: dict[Key, list[Message]]
) -> list[tuple[Message, str]]:
    """Take the refused messages of the `live` (registered) devices out of `by_device`;
    return them with their reasons. `live` maps a device to its LiveDevice."""
    refused: list[tuple[Message, str]] = []
    acks: dict[AckClaim, list[CommandAck]] = {}
    for key, batch in by_device.items():
        target = live.get(key)
        if target is None:
            continue  # unknown devices are dead-lettered whole
        for message in batch:
            if isinstance(message, CommandAck):
                claim = AckClaim(message.site, message.device, message.id, message.ok)
                acks.setdefault(claim, []).append(message)
            elif isinstance(message, Event) and message.type == "badge":
                reason = badge_refusal(resource_id=target.key.resource_id)
                if reason is not None:
                    refused.append((message, reason))
    if acks:
        for claim, reason in ack_refusals(session=session, acks=list(acks)):
            refused.extend((message, reason) for message in acks[claim])
    if refused:
        out = {id(message) for message, _ in refused}
        for key, batch in by_device.items():
            by_device[key] = [message for message in batch if id(message) not in out]
    return refused
