"""Bearer tokens for the API: e-mail and password in, a token out.

Every operation checks the token it is sent with `context.require_principal`. A person
lists their live tokens (page logins included) and revokes any of them; an admin any one.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, current_app, request

from ..db import begin_write, commit_request, get_session
from ..errors import TooManyRequests, Unauthorized
from ..rules.accounts import issue_token
from ..rules.login_guard import log_in
from ..rules.tokens import client_label, list_tokens, revoke_token_by_id
from .context import bearer_token, current_principal, now
from .openapi import operation
from .schemas import TokenPublic, TokenRequest, TokenResponse

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
    token = issue_token(
        session=session,
        now=moment,
        account=account,
        ttl_days=ttl,
        label=client_label(request.user_agent.string),
    )
    return TokenResponse(
        token=token, expires_at=moment + timedelta(days=ttl), account_id=account.id
    )


@operation(
    bp,
    "/tokens",
    "GET",
    summary="The caller's live page logins and API tokens (never the tokens themselves)",
    response=list[TokenPublic],
    errors=(401,),
)
def list_own_tokens() -> list[TokenPublic]:
    entries = list_tokens(
        session=get_session(),
        now=now(),
        account_id=current_principal().id,
        current=bearer_token(),
    )
    return [TokenPublic.model_validate(entry, from_attributes=True) for entry in entries]


@operation(
    bp,
    "/tokens/<int:token_id>",
    "DELETE",
    summary="Revoke a token: one's own, or anyone's for an admin",
    status=204,
    errors=(401, 404),
)
def revoke_token(token_id: int) -> Response:
    revoke_token_by_id(
        session=get_session(), now=now(), actor=current_principal(), token_id=token_id
    )
    return Response(status=204)
