"""Per-request values every view shares: the clock reading and the caller."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g, request

from ..clock import utcnow
from ..db import get_session
from ..errors import Unauthorized
from ..rules.accounts import Principal, principal_for_token


def now() -> datetime:
    """The request's one clock reading (tests set app.config["CLOCK"])."""
    if "now" not in g:
        g.now = current_app.config.get("CLOCK", utcnow)()
    value: datetime = g.now
    return value


def current_principal() -> Principal:
    principal: Principal = g.principal
    return principal


def bearer_token() -> str | None:
    """The token of the request's `Authorization: Bearer …` header, if it has one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def require_principal() -> Principal:
    """The caller named by the Authorization header, else 401."""
    token = bearer_token()
    if token is None:
        raise Unauthorized("send 'Authorization: Bearer <token>' (POST /api/v1/auth/token)")
    return principal_for_token(session=get_session(), now=now(), token=token)
