"""The one place a paho client is made: MQTT v5, one TLS and credentials policy.

Devices, the simulator, the telemetry listener and the scheduler all connect through
`make_client`; the server's callers fill its arguments from `[mqtt]`.
"""

from __future__ import annotations

import ssl

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .contract import encode_status, topic_for

QOS = 1
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 30


def make_client(
    client_id: str,
    *,
    username: str = "",
    password: str = "",
    tls: bool = False,
    will: tuple[str, str] | None = None,
    root: str = "smartfab",
    manual_ack: bool = False,
) -> mqtt.Client:
    """A paho MQTT v5 client; `will=(site, device)` sets the retained `offline` Last Will.

    With `tls` the broker's certificate must verify against the system's CAs and name
    the host; `manual_ack` leaves acknowledging QoS 1 messages to the caller.
    """
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=manual_ack,
    )
    if username:
        client.username_pw_set(username, password or None)
    if tls:
        client.tls_set(cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    if will is not None:
        site, device = will
        client.will_set(
            topic_for(root, site, device, "status"), encode_status(False), qos=QOS, retain=True
        )
    client.reconnect_delay_set(min_delay=RECONNECT_MIN_S, max_delay=RECONNECT_MAX_S)
    return client
