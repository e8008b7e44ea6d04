"""Web pages: password login, the maker's reservations, and the iCalendar feeds."""

from __future__ import annotations

from datetime import datetime
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from ..api.context import now
from ..db import get_session
from ..errors import Unauthorized
from ..ical import feed_for_secret
from ..models import Account
from ..rules.accounts import authenticate, principal_for
from ..rules.lifecycle import list_reservations

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.app_template_filter("local")
def local_time(value: datetime) -> str:
    """A stored UTC time shown in the site's zone, e.g. '2026-03-03 10:00 KST'."""
    zone = ZoneInfo(current_app.config["SMARTFAB"].site.default_timezone)
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def login_required(view: Any) -> Any:
    @wraps(view)
    def wrapped(**kwargs: Any) -> Any:
        if "account_id" not in session:
            return redirect(url_for("pages.login", next=request.path))
        return view(**kwargs)

    return wrapped


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | BaseResponse:
    error = None
    if request.method == "POST":
        try:
            account = authenticate(
                session=get_session(),
                email=request.form.get("email", ""),
                password=request.form.get("password", ""),
            )
        except Unauthorized as exc:
            error = exc.message
        else:
            session.clear()
            session["account_id"] = account.id
            target = request.args.get("next", "")
            # Only same-site paths: never redirect to another host.
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("pages.home")
            return redirect(target)
    return render_template("login.html", error=error), 401 if error else 200  # type: ignore[return-value]


@bp.post("/logout")
def logout() -> BaseResponse:
    session.clear()
    return redirect(url_for("pages.login"))


@bp.get("/")
@login_required
def home() -> str | BaseResponse:
    db = get_session()
    account = db.get(Account, session["account_id"])
    if account is None or not account.active:
        session.clear()
        return redirect(url_for("pages.login"))
    actor = principal_for(session=db, account=account)
    reservations = list_reservations(session=db, actor=actor, mine=True, start=now(), end=None)
    return render_template("home.html", account=account, reservations=reservations)


@bp.get("/ical/<secret>.ics")
def ical(secret: str) -> Response:
    body = feed_for_secret(session=get_session(), secret=secret, now=now())
    if body is None:
        abort(404)
    return Response(body, mimetype="text/calendar")
