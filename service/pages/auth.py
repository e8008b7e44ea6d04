"""Logging in and out of the pages, and who the page is for.

A page login is a bearer token like the API's, kept in the signed session cookie;
logging out revokes it, so a copy of the old cookie opens nothing.
"""

from __future__ import annotations

from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from ..api.context import now
from ..db import get_session
from ..errors import TooManyRequests, Unauthorized
from ..models import Account
from ..rules.accounts import issue_token, principal_for_token, revoke_token
from ..rules.login_guard import log_in
from ..rules.tokens import client_label
from .messages import refusal

bp = Blueprint("signin", __name__, template_folder="templates")

LOGIN_DAYS = 14


def load_account() -> None:
    """Before each page: the logged-in account and its roles in `g`, or nothing."""
    g.account = g.principal = None
    token = session.get("token")
    if not token:
        return
    db = get_session()
    try:
        principal = principal_for_token(session=db, now=now(), token=token)
    except Unauthorized:
        session.clear()
        return
    g.principal = principal
    g.account = db.get(Account, principal.id)


def login_required(view: Any) -> Any:
    @wraps(view)
    def wrapped(**kwargs: Any) -> Any:
        if g.get("account") is None:
            return redirect(url_for("signin.login", next=request.full_path.rstrip("?")))
        return view(**kwargs)

    return wrapped


def staff_required(view: Any) -> Any:
    """For operators and admins; others logged in get 403, visitors the login."""

    @wraps(view)
    @login_required
    def wrapped(**kwargs: Any) -> Any:
        if not g.principal.is_staff:
            abort(403)
        return view(**kwargs)

    return wrapped


def admin_required(view: Any) -> Any:
    """For admins; others logged in get 403, visitors the login."""

    @wraps(view)
    @login_required
    def wrapped(**kwargs: Any) -> Any:
        if not g.principal.admin:
            abort(403)
        return view(**kwargs)

    return wrapped


def same_site(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default`.

    Browsers drop tabs and newlines and read a backslash as a slash, so
    `/%09/evil.example` or `/\\evil` would leave the site; anything with a scheme, a
    host or such characters is refused.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(c in target for c in "\\\t\r\n") or any(ord(c) < 32 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | BaseResponse | tuple[str, int, dict[str, str]]:
    error, status, headers = None, 200, {}
    if request.method == "POST":
        db = get_session()
        try:
            account = log_in(
                session=db,
                now=now(),
                email=request.form.get("email", ""),
                password=request.form.get("password", ""),
                address=request.remote_addr,
            )
        except (Unauthorized, TooManyRequests) as exc:
            db.commit()  # the refusal stays in the audit log
            error, status = refusal(exc), exc.status
            if isinstance(exc.details, dict) and "retry_after_s" in exc.details:
                headers["Retry-After"] = str(exc.details["retry_after_s"])
        else:
            token = issue_token(
                session=db,
                now=now(),
                account=account,
                ttl_days=LOGIN_DAYS,
                kind="page",
                label=client_label(request.user_agent.string),
            )
            db.commit()
            chosen = session.get("locale")
            session.clear()
            session["token"] = token
            if chosen and not account.locale:
                session["locale"] = chosen
            return redirect(same_site(request.args.get("next"), url_for("home.index")))
    page = render_template("signin/login.html", error=error)
    return page, status, headers


@bp.post("/logout")
def logout() -> BaseResponse:
    token = session.get("token")
    if token:
        db = get_session()
        revoke_token(session=db, token=token)
        db.commit()
    session.clear()
    return redirect(url_for("signin.login"))
