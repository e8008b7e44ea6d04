"""Bearer-token authentication for the API."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, request

from ..db import begin_write, get_session
from ..errors import Unauthorized
from ..rules.accounts import (
    Principal,
    authenticate,
    issue_token,
    principal_for_token,
)
from .context import now
from .openapi import operation
from .schemas import TokenRequest, TokenResponse

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


def require_principal() -> Principal:
    """The caller named by the Authorization header, else 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send 'Authorization: Bearer <token>' (POST /api/v1/auth/token)")
    session = get_session()
    return principal_for_token(session=session, now=now(), token=token.strip())


@operation(
    bp,
    "/token",
    "POST",
    summary="Exchange e-mail and password for a bearer token",
    body=TokenRequest,
    response=TokenResponse,
    status=201,
    auth=False,
)
def create_token(body: TokenRequest) -> TokenResponse:
    session = get_session()
    moment = now()
    begin_write(session)
    account = authenticate(session=session, email=body.email, password=body.password)
    ttl = current_app.config["SMARTFAB"].booking.token_ttl_days
    token = issue_token(session=session, now=moment, account=account, ttl_days=ttl)
    return TokenResponse(
        token=token, expires_at=moment + timedelta(days=ttl), account_id=account.id or 0
    )
