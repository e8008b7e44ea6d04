"""Telemetry reads with InfluxQL over /query, which InfluxDB 1.x, 2.x (DBRP) and 3.x answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import urllib3

from service.config import InfluxSettings

from .lineproto import MEASUREMENT, epoch_ms
from .store import HistoryQuery, Samples, StoreUnavailable

_TAGS = ("site", "resource", "kind")


class QueryError(RuntimeError):
    """InfluxDB did not answer a query, or answered it with an error."""


class Unreachable(QueryError, StoreUnavailable):
    """InfluxDB could not be reached, or failed on its side (HTTP 5xx)."""


def ident(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _value(value: Any) -> float | str | None:
    if value is None or isinstance(value, str):
        return value
    return float(value)


class InfluxQL:
    """A small InfluxQL client for the telemetry measurement of one bucket (`db` or `db/rp`)."""

    def __init__(self, settings: InfluxSettings, *, timeout_s: float = 10.0) -> None:
        self.url = settings.url.rstrip("/") + "/query"
        self.db, _, self.rp = settings.bucket.partition("/")
        self.headers = {"Accept": "application/json"}
        if settings.token:
            self.headers["Authorization"] = f"Token {settings.token}"
        self._http = urllib3.PoolManager(
            timeout=urllib3.Timeout(total=timeout_s), retries=urllib3.Retry(2, backoff_factor=0.2)
        )

    def close(self) -> None:
        self._http.clear()

    def query(self, q: str) -> list[dict[str, Any]]:
        """Run `q`; the list of statement results (each may hold `series`)."""
        fields = {"db": self.db, "q": q, "epoch": "ms"}
        if self.rp:
            fields["rp"] = self.rp
        try:
            answer = self._http.request("GET", self.url, fields=fields, headers=self.headers)
        except urllib3.exceptions.HTTPError as exc:
            raise Unreachable(f"InfluxDB unreachable: {exc}") from exc
        failed = Unreachable if answer.status >= 500 else QueryError
        try:
            body = json.loads(answer.data or b"{}")
        except ValueError as exc:
            raise failed(f"InfluxDB answered HTTP {answer.status} without JSON") from exc
        if answer.status >= 500:
            raise Unreachable(str(body.get("error") or f"HTTP {answer.status}"))
        if answer.status >= 400 or "error" in body:
            raise QueryError(str(body.get("error") or f"HTTP {answer.status}"))
        results: list[dict[str, Any]] = body.get("results", [])
        for result in results:
            if "error" in result:
                raise QueryError(str(result["error"]))
        return results

    def _where(self, site: str, resource: str) -> str:
        return f"{ident('site')} = {literal(site)} AND {ident('resource')} = {literal(resource)}"

    def history(self, query: HistoryQuery) -> Samples:
        """Raw values of `field` in [start, end), or per `every` bucket (mean; last for text)."""
        site, resource, field, start, end, every = query
        where = (
            f"{self._where(site, resource)}"
            f" AND time >= {epoch_ms(start)}ms AND time < {epoch_ms(end)}ms"
        )
        if every is None:
            q = f"SELECT {ident(field)} FROM {MEASUREMENT} WHERE {where}"  # noqa: S608
            return self._pairs(self.query(q))
        step = max(1, every // timedelta(milliseconds=1))
        grouped = f"FROM {MEASUREMENT} WHERE {where} GROUP BY time({step}ms) fill(none)"
        try:
            return self._pairs(self.query(f"SELECT mean({ident(field)}) {grouped}"))
        except QueryError as exc:
            if "mean" not in str(exc):
                raise
            # A text field (state) has no mean; its bucket value is the last one.
            return self._pairs(self.query(f"SELECT last({ident(field)}) {grouped}"))

    @staticmethod
    def _pairs(results: list[dict[str, Any]]) -> Samples:
        series = results[0].get("series") if results else None
        if not series:
            return []
        return [(_when(row[0]), _value(row[1])) for row in series[0].get("values", [])]

    def latest(self, *, site: str, resource: str) -> dict[str, object]:
        """Newest value of each field, and under "ts" the time of the newest point."""
        where = self._where(site, resource)
        # Names and values are quoted by ident() and literal(); nothing is pasted raw.
        q = (
            f"SELECT last(*) FROM {MEASUREMENT} WHERE {where};"  # noqa: S608
            f" SELECT * FROM {MEASUREMENT} WHERE {where} ORDER BY time DESC LIMIT 1"
        )
        results = self.query(q)
        values: dict[str, object] = {}
        lasts = results[0].get("series") if results else None
        newest = results[1].get("series") if len(results) > 1 else None
        if not lasts or not newest:
            return values
        columns, row = lasts[0]["columns"], lasts[0]["values"][0]
        for column, value in zip(columns[1:], row[1:], strict=True):
            if value is not None:
                values[column.removeprefix("last_")] = _value(value)
        values["ts"] = _when(newest[0]["values"][0][0])
        return values
