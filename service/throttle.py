"""How often a client may try to log in: per client address and per e-mail tried.

Flask-Limiter counts the page's POST /login and the API's POST /api/v1/auth/token in
each web process's memory (so with N processes a client may try up to N times the
limit); the lockout after repeated wrong passwords (`rules/login_guard.py`) is kept in
SQL and holds across processes. Past a limit the API answers 429 in its error format and
the login page says so in the page's language.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from .api.errors import answer

# The endpoints that take a password.
LOGINS = ("signin.login", "auth.create_token")

TOO_MANY = _l("Too many login attempts. Wait a few minutes and try again.")


def tried_email() -> str:
    """The e-mail a login request names (form or JSON body), as the lockout reads it."""
    if request.is_json:
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # nested too deep for json; the view refuses it with a 400
            body = None
        value = body.get("email") if isinstance(body, dict) else None
    else:
        value = request.form.get("email")
    return "email:" + (value.strip().lower()[:254] if isinstance(value, str) else "")


def init_app(app: Flask) -> None:
    """Limit the login endpoints of `app` (after its blueprints are registered)."""
    web = app.config["SMARTFAB"].web
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://")
    for endpoint in LOGINS:
        view: Any = app.view_functions.get(endpoint)
        if view is None:
            continue
        view = limiter.limit(web.login_limit_per_address, methods=["POST"])(view)
        view = limiter.limit(
            web.login_limit_per_account, key_func=tried_email, methods=["POST"], scope="account"
        )(view)
        app.view_functions[endpoint] = view

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded) -> Response | tuple[str, int]:
        # Flask-Limiter adds Retry-After to either answer.
        if request.blueprint == "signin":
            return render_template("signin/login.html", error=str(TOO_MANY)), 429
        return answer(429, "too_many_requests", f"too many login attempts ({exc.description})")
