"""Publishing the contract's messages with paho-mqtt 2.x (QoS 1; status retained)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt

from .client import QOS
from .contract import (
    Command,
    encode_ack,
    encode_command,
    encode_event,
    encode_status,
    encode_telemetry,
    topic_for,
)


def publish_telemetry(
    client: mqtt.Client,
    root: str,
    site: str,
    device: str,
    *,
    ts: datetime | None,
    state: str | None,
    metrics: dict[str, float],
) -> mqtt.MQTTMessageInfo:
    payload = encode_telemetry(ts, state, metrics)
    return client.publish(topic_for(root, site, device, "telemetry"), payload, qos=QOS)


def publish_event(
    client: mqtt.Client,
    root: str,
    site: str,
    device: str,
    type: str,
    *,
    ts: datetime | None = None,
    **data: Any,
) -> mqtt.MQTTMessageInfo:
    payload = encode_event(ts, type, **data)
    return client.publish(topic_for(root, site, device, "event"), payload, qos=QOS)


def publish_status(
    client: mqtt.Client, root: str, site: str, device: str, online: bool, *, planned: bool = False
) -> mqtt.MQTTMessageInfo:
    """Retained, so whoever subscribes later learns the device's state at once.

    `planned`: the device goes offline on purpose (`stopped`), which raises no alert.
    """
    topic = topic_for(root, site, device, "status")
    return client.publish(topic, encode_status(online, planned=planned), qos=QOS, retain=True)


def publish_command(
    client: mqtt.Client, root: str, site: str, device: str, command: Command
) -> mqtt.MQTTMessageInfo:
    """Send a command to a device (not retained: a stale command must not replay)."""
    topic = topic_for(root, site, device, "cmd")
    return client.publish(topic, encode_command(command), qos=QOS)


def publish_ack(
    client: mqtt.Client, root: str, site: str, device: str, command_id: str, ok: bool
) -> mqtt.MQTTMessageInfo:
    topic = topic_for(root, site, device, "cmd/ack")
    return client.publish(topic, encode_ack(command_id, ok), qos=QOS)
