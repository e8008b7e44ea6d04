"""Per-request values every view shares: the clock reading and the caller."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g

from ..clock import utcnow
from ..rules.accounts import Principal


def now() -> datetime:
    """The request's one clock reading (tests set app.config["CLOCK"])."""
    if "now" not in g:
        g.now = current_app.config.get("CLOCK", utcnow)()
    value: datetime = g.now
    return value


def current_principal() -> Principal:
    principal: Principal = g.principal
    return principal
