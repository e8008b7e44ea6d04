"""Bearer tokens for the API: e-mail and password in, a token out.

Every operation checks the token it is sent with `context.require_principal`.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app

from ..db import begin_write, get_session
from ..rules.accounts import authenticate, issue_token
from .context import now
from .openapi import operation
from .schemas import TokenRequest, TokenResponse

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


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
    session.commit()
    return TokenResponse(
        token=token, expires_at=moment + timedelta(days=ttl), account_id=account.id
    )
