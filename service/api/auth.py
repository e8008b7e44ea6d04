"""Bearer tokens for the API: e-mail and password in, a token out.

Every operation checks the token it is sent with `context.require_principal`.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, request

from ..db import begin_write, commit_request, get_session
from ..errors import TooManyRequests, Unauthorized
from ..rules.accounts import issue_token
from ..rules.login_guard import log_in
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
    errors=(401, 429),
)
def create_token(body: TokenRequest) -> TokenResponse:
    session = get_session()
    moment = now()
    begin_write(session)
    try:
        account = log_in(
            session=session,
            now=moment,
            email=body.email,
            password=body.password,
            address=request.remote_addr,
        )
    except (Unauthorized, TooManyRequests):
        commit_request()  # the refusal stays in the audit log
        raise
    ttl = current_app.config["SMARTFAB"].booking.token_ttl_days
    token = issue_token(session=session, now=moment, account=account, ttl_days=ttl)
    return TokenResponse(
        token=token, expires_at=moment + timedelta(days=ttl), account_id=account.id
    )
