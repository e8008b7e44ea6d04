"""What the listener's paho callback hands its worker, and what the worker counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple


class Inbound(NamedTuple):
    topic: str
    payload: bytes
    mid: int
    qos: int
    # Which connection delivered it: an ack is only valid on that connection.
    connection: int
    # When it arrived, to the millisecond: the time of a message that carries no `ts`.
    arrived: datetime


@dataclass
class ListenerStats:
    received: int = 0
    messages: int = 0
    points: int = 0
    dead_letters: int = 0
    # Of those, decoded messages `apply` refused: from unregistered devices, or not
    # taken from who sent them (an ack from the wrong device, a badge from an unbound reader).
    refused: int = 0
    # Messages neither applied nor kept as dead letters (logged): should stay 0.
    dropped: int = 0
    acked: int = 0
    batches: int = 0
    connects: int = 0
    failures: int = 0
    # Seconds the worker spent in each step, to see where the time goes.
    decode_s: float = 0.0
    store_s: float = 0.0
    apply_s: float = 0.0
    ack_s: float = 0.0

    def summary(self) -> str:
        return " ".join(
            f"{name}={value:.2f}" if isinstance(value, float) else f"{name}={value}"
            for name, value in vars(self).items()
        )
