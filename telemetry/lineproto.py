"""InfluxDB line protocol for telemetry points: measurement `telemetry`, tags site,
resource and kind, one field per metric, millisecond timestamps."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from .store import Point

MEASUREMENT = "telemetry"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
# Backslashes in keys are taken literally by InfluxDB 1.x; slugs and metric names have none.
_KEY_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": " "})


def _key(text: str) -> str:
    return text.translate(_KEY_ESCAPES)


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def epoch_ms(ts: datetime) -> int:
    """Exact milliseconds since the epoch (no float rounding)."""
    return (ts - _EPOCH) // _MS


def encode(points: Iterable[Point]) -> bytes:
    """Line protocol for `points`, one line each; points without a usable field are left out.

    Numbers (and booleans) are written as floats so a metric never changes type between
    devices or firmware versions, which InfluxDB would refuse as a field type conflict.
    """
    series: dict[tuple[str, str, str], str] = {}
    keys: dict[str, str] = {}
    lines: list[str] = []
    for point in points:
        tags = (point.site, point.resource, point.kind)
        prefix = series.get(tags)
        if prefix is None:
            prefix = MEASUREMENT + "".join(
                f",{name}={_key(value)}"
                for name, value in (("kind", tags[2]), ("resource", tags[1]), ("site", tags[0]))
                if value
            )
            series[tags] = prefix
        fields = []
        for name, value in point.fields.items():
            key = keys.get(name)
            if key is None:
                key = keys[name] = _key(name)
            if isinstance(value, str):
                fields.append(f"{key}={_string(value)}")
            else:
                number = float(value)
                if math.isfinite(number):
                    fields.append(f"{key}={number!r}")
        if fields:
            lines.append(f"{prefix} {','.join(fields)} {epoch_ms(point.ts)}")
    return "\n".join(lines).encode()
