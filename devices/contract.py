"""The MQTT contract: topic names and payload schemas, decoded into frozen dataclasses.

Everything a device sends is checked here; anything that does not fit raises
InvalidMessage with a short reason code, which the listener records as a dead letter.
Every topic is read by `parse_topic`, and every topic filter made by `topic_filter`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

MAX_PAYLOAD = 64 * 1024
# Device clocks drift and queues back up; beyond these a timestamp is not believed
# (the server passes its configured `[telemetry] max_clock_skew_s` as `max_future`).
MAX_FUTURE = timedelta(minutes=5)
MAX_PAST = timedelta(days=7)
MAX_METRICS = 64
# 9999-12-31T00:00Z, the last day a datetime can hold (with room for any offset).
MAX_EPOCH_MS = 253_402_214_400_000

STATES = ("off", "idle", "running", "fault")
EVENT_TYPES = ("badge", "door", "job")
JOB_PHASES = ("start", "pause", "resume", "end", "abort")
ACTIONS = ("enable", "disable", "warn", "deny")
Kind = Literal["telemetry", "event", "status", "cmd", "cmd/ack"]

_SLUG = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
TOPIC = re.compile(
    rf"^(?P<root>[^/#+]+)/(?P<site>{_SLUG})/(?P<device>{_SLUG})"
    r"/(?P<kind>telemetry|event|status|cmd/ack|cmd)$"
)
_METRIC = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_CARD = re.compile(r"^[0-9A-Fa-f]{8,20}$")
_RESERVED = frozenset({"ts", "state", "time"})


class InvalidMessage(ValueError):
    """A message that breaks the contract; `reason` is a short code for counting."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Telemetry:
    site: str
    device: str
    ts: datetime
    state: str | None
    metrics: dict[str, float] = field(hash=False)
    payload: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True)
class Event:
    site: str
    device: str
    ts: datetime
    type: str
    data: dict[str, Any] = field(hash=False)
    payload: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True)
class Status:
    """`online`; `offline` (the Last Will: the device vanished); or `stopped` (offline on
    purpose, said by the device itself before it disconnects: `planned`)."""

    site: str
    device: str
    online: bool
    ts: datetime
    payload: bytes = field(default=b"", repr=False, compare=False)
    planned: bool = False


@dataclass(frozen=True)
class CommandAck:
    site: str
    device: str
    id: str
    ok: bool
    ts: datetime
    payload: bytes = field(default=b"", repr=False, compare=False)


# Each keeps `payload`, the bytes as received (empty when made in code), for dead letters.
Message = Telemetry | Event | Status | CommandAck


@dataclass(frozen=True)
class Command:
    """Server to device: switch the machine on or off around a reservation, or warn."""

    id: str
    action: str
    reservation: int | None = None
    until: datetime | None = None
    message: str = ""


@dataclass(frozen=True)
class TopicParts:
    root: str
    site: str
    device: str
    kind: Kind


def topic_for(root: str, site: str, device: str, kind: Kind) -> str:
    """The topic a device (or the server, for `cmd`) publishes on."""
    return f"{root}/{site}/{device}/{kind}"


def topic_filter(root: str, kind: Kind | Literal["#"] = "#", *, group: str = "") -> str:
    """The filter for one kind of topic of every device (`#`: all of them), in the
    shared subscription `group` when one is given."""
    topic = f"{root}/+/+/{kind}"
    return f"$share/{group}/{topic}" if group else topic


def parse_topic(topic: str, *, root: str | None) -> TopicParts:
    """Site, device and kind of a contract topic under `root` (None: under any root)."""
    match = TOPIC.match(topic)
    if match is None or (root is not None and match["root"] != root):
        raise InvalidMessage("unknown_topic", topic[:200])
    kind: Kind = match["kind"]  # type: ignore[assignment]
    return TopicParts(match["root"], match["site"], match["device"], kind)


def decode(
    topic: str,
    payload: bytes,
    *,
    root: str,
    now: datetime,
    max_future: timedelta = MAX_FUTURE,
) -> Message:
    """Check and decode one inbound message; raises InvalidMessage with a reason.

    A `ts` more than `max_future` ahead of `now` is refused as `ts_in_future`."""
    parts = parse_topic(topic, root=root)
    if len(payload) > MAX_PAYLOAD:
        raise InvalidMessage("too_large", f"{len(payload)} bytes > {MAX_PAYLOAD}")
    if parts.kind == "status":
        return _status(parts, payload, now)
    if parts.kind == "cmd":
        raise InvalidMessage("not_inbound", "commands flow from the server to devices")
    body = _object(payload)
    ts = _timestamp(body.get("ts"), now, max_future)
    if parts.kind == "telemetry":
        return _telemetry(parts, body, ts, payload)
    if parts.kind == "event":
        return _event(parts, body, ts, payload)
    return _ack(parts, body, ts, payload)


def _object(payload: bytes) -> dict[str, Any]:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidMessage("not_utf8") from None
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise InvalidMessage("not_json") from None
    if not isinstance(value, dict):
        raise InvalidMessage("not_object", type(value).__name__)
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _timestamp(raw: Any, now: datetime, max_future: timedelta) -> datetime:
    if raw is None:
        return now.astimezone(UTC)
    if isinstance(raw, bool):
        raise InvalidMessage("bad_ts", "a boolean")
    if isinstance(raw, int | float):
        if not math.isfinite(raw) or not 0 <= raw < MAX_EPOCH_MS:
            raise InvalidMessage("bad_ts", "epoch milliseconds out of range")
        ts = datetime.fromtimestamp(raw / 1000, UTC)
    elif isinstance(raw, str):
        ts = parse_rfc3339(raw)
    else:
        raise InvalidMessage("bad_ts", type(raw).__name__)
    if ts > now + max_future:
        raise InvalidMessage("ts_in_future", ts.isoformat())
    if ts < now - MAX_PAST:
        raise InvalidMessage("ts_past", ts.isoformat())
    return ts


def parse_rfc3339(raw: str) -> datetime:
    """An RFC 3339 timestamp with an offset (or Z), in UTC."""
    if len(raw) > 40:
        raise InvalidMessage("bad_ts", "too long")
    try:
        ts = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidMessage("bad_ts", raw) from None
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise InvalidMessage("bad_ts", "no time zone offset")
    try:
        return ts.astimezone(UTC)
    except OverflowError:
        raise InvalidMessage("bad_ts", raw) from None


def _number(name: str, value: Any) -> float:
    # JSON booleans are accepted for 0/1 metrics such as `occupied`.
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if not isinstance(value, int | float):
        raise InvalidMessage("bad_type", f"{name} is {type(value).__name__}, not a number")
    try:
        number = float(value)
    except OverflowError:
        raise InvalidMessage("bad_value", f"{name} out of range") from None
    if not math.isfinite(number):
        raise InvalidMessage("bad_value", f"{name} is not finite")
    return number


def _telemetry(parts: TopicParts, body: dict[str, Any], ts: datetime, payload: bytes) -> Telemetry:
    state = body.get("state")
    if state is not None and state not in STATES:
        raise InvalidMessage("bad_state", str(state)[:40])
    metrics: dict[str, float] = {}
    for name, value in body.items():
        if name in ("ts", "state"):
            continue
        if name in _RESERVED or not _METRIC.match(name):
            raise InvalidMessage("bad_metric_name", name[:64])
        metrics[name] = _number(name, value)
    if len(metrics) > MAX_METRICS:
        raise InvalidMessage("too_many_metrics", str(len(metrics)))
    if state is None and not metrics:
        raise InvalidMessage("empty", "neither state nor metrics")
    return Telemetry(parts.site, parts.device, ts, state, metrics, payload)


def _event(parts: TopicParts, body: dict[str, Any], ts: datetime, payload: bytes) -> Event:
    kind = body.get("type")
    if kind == "badge":
        card = body.get("card")
        if not isinstance(card, str) or not _CARD.match(card):
            raise InvalidMessage("bad_card", "card must be 8 to 20 hex digits")
        return Event(parts.site, parts.device, ts, "badge", {"card": card.upper()}, payload)
    if kind == "door":
        is_open = body.get("open")
        if not isinstance(is_open, bool):
            raise InvalidMessage("bad_type", "door 'open' must be true or false")
        return Event(parts.site, parts.device, ts, "door", {"open": is_open}, payload)
    if kind == "job":
        phase = body.get("phase")
        if phase not in JOB_PHASES:
            raise InvalidMessage("bad_phase", str(phase)[:40])
        return Event(parts.site, parts.device, ts, "job", {"phase": phase}, payload)
    raise InvalidMessage("unknown_event", str(kind)[:40])


def _status(parts: TopicParts, payload: bytes, now: datetime) -> Status:
    text = payload.strip()
    if text not in (b"online", b"offline", b"stopped"):
        raise InvalidMessage("bad_status", "status is 'online', 'offline' or 'stopped'")
    online, planned = text == b"online", text == b"stopped"
    return Status(parts.site, parts.device, online, now.astimezone(UTC), payload, planned)


def _identifier(raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int) or not str(raw):
        raise InvalidMessage("bad_id", "id must be a non-empty string")
    value = str(raw)
    if len(value) > 64:
        raise InvalidMessage("bad_id", "id longer than 64 characters")
    return value


def _ack(parts: TopicParts, body: dict[str, Any], ts: datetime, payload: bytes) -> CommandAck:
    ok = body.get("ok")
    if not isinstance(ok, bool):
        raise InvalidMessage("bad_type", "'ok' must be true or false")
    return CommandAck(parts.site, parts.device, _identifier(body.get("id")), ok, ts, payload)


# Encoding: what devices (and the simulator) send, and the server's commands.


def format_ts(ts: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, e.g. 2026-03-02T00:00:00.000Z."""
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode_telemetry(ts: datetime | None, state: str | None, metrics: dict[str, float]) -> bytes:
    body: dict[str, Any] = {}
    if ts is not None:
        body["ts"] = format_ts(ts)
    if state is not None:
        body["state"] = state
    body.update(metrics)
    return json.dumps(body, separators=(",", ":")).encode()


def encode_event(ts: datetime | None, type: str, **data: Any) -> bytes:
    body: dict[str, Any] = {"type": type, **data}
    if ts is not None:
        body["ts"] = format_ts(ts)
    return json.dumps(body, separators=(",", ":")).encode()


def encode_status(online: bool, *, planned: bool = False) -> bytes:
    """`planned` only for offline: a device stopping on purpose says `stopped`."""
    if online:
        return b"online"
    return b"stopped" if planned else b"offline"


def encode_ack(command_id: str, ok: bool) -> bytes:
    return json.dumps({"id": command_id, "ok": ok}, separators=(",", ":")).encode()


def encode_command(command: Command) -> bytes:
    """The JSON payload of a command, checked before it leaves the server."""
    if command.action not in ACTIONS:
        raise ValueError(f"unknown action {command.action!r}")
    body: dict[str, Any] = {"id": command.id, "action": command.action}
    if command.reservation is not None:
        body["reservation"] = command.reservation
    if command.until is not None:
        if command.until.tzinfo is None:
            raise ValueError("'until' must carry a time zone")
        body["until"] = format_ts(command.until)
    if command.message:
        body["message"] = command.message
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def decode_command(payload: bytes) -> Command:
    """What a device makes of a `cmd` payload; raises InvalidMessage."""
    if len(payload) > MAX_PAYLOAD:
        raise InvalidMessage("too_large", f"{len(payload)} bytes")
    body = _object(payload)
    action = body.get("action")
    if action not in ACTIONS:
        raise InvalidMessage("bad_action", str(action)[:40])
    reservation = body.get("reservation")
    if isinstance(reservation, bool) or not isinstance(reservation, int | None):
        raise InvalidMessage("bad_type", "'reservation' must be an integer")
    until_raw = body.get("until")
    if until_raw is not None and not isinstance(until_raw, str):
        raise InvalidMessage("bad_type", "'until' must be an RFC 3339 string")
    message = body.get("message", "")
    if not isinstance(message, str):
        raise InvalidMessage("bad_type", "'message' must be a string")
    return Command(
        id=_identifier(body.get("id")),
        action=action,
        reservation=reservation,
        until=parse_rfc3339(until_raw) if until_raw is not None else None,
        message=message,
    )
