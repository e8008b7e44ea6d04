"""The one place a paho client is made: MQTT v5, one TLS and credentials policy.

Devices, the simulator, the telemetry listener and the scheduler all connect through
`make_client`; the server's callers fill its arguments from `[mqtt]`.
"""

from __future__ import annotations

import ssl
from typing import TypedDict

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .contract import encode_status, topic_for

QOS = 1
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 30


class TlsOptions(TypedDict):
    """The TLS arguments of `make_client` (and of the simulator, which passes them on)."""

    tls: bool
    ca_file: str
    cert_file: str
    key_file: str


def tls_context(*, ca_file: str = "", cert_file: str = "", key_file: str = "") -> ssl.SSLContext:
    """A client context that verifies the broker and its host name.

    Against the CAs in `ca_file` (PEM), else the system's; with `cert_file` and `key_file`
    it presents that client certificate. Raises OSError or ssl.SSLError for a file that
    cannot be read or a key that does not match its certificate.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file:
        context.load_cert_chain(cert_file, key_file or None)
    return context


def make_client(
    client_id: str,
    *,
    username: str = "",
    password: str = "",
    tls: bool = False,
    ca_file: str = "",
    cert_file: str = "",
    key_file: str = "",
    will: tuple[str, str] | None = None,
    root: str = "smartfab",
    manual_ack: bool = False,
) -> mqtt.Client:
    """A paho MQTT v5 client; `will=(site, device)` sets the retained `offline` Last Will.

    With `tls` the broker's certificate must verify against `ca_file` (else the system's
    CAs) and name the host; `cert_file`/`key_file` add a client certificate (see
    `tls_context`). `manual_ack` leaves acknowledging QoS 1 messages to the caller.
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
        client.tls_set_context(tls_context(ca_file=ca_file, cert_file=cert_file, key_file=key_file))
    if will is not None:
        site, device = will
        client.will_set(
            topic_for(root, site, device, "status"), encode_status(False), qos=QOS, retain=True
        )
    client.reconnect_delay_set(min_delay=RECONNECT_MIN_S, max_delay=RECONNECT_MAX_S)
    return client
