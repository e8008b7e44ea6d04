"""The web pages: one blueprint per area, sharing a layout, languages and safe forms.

Every page blueprint is listed in BLUEPRINTS; `init_app` registers them with
Flask-Babel (the page's language), Flask-WTF's CSRF check on every state-changing
request to a page, and the filters the templates share.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, render_template, request, session
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from werkzeug.exceptions import HTTPException

from ..db import get_session
from ..errors import DomainError
from ..rules.alerts import count_open
from . import (
    admin,
    auth,
    booking,
    catalogue,
    display,
    floor,
    home,
    language,
    machines,
    mine,
    ops_alerts,
    ops_dead_letters,
    ops_today,
    regional,
    reservations,
)
from .i18n import LOCALES, local_clock, local_name, local_time, money, select_locale
from .i18n import language as page_language
from .messages import EXPIRED, KINDS, STATUSES, refusal
from .nav import staff_links

BLUEPRINTS = (
    auth.bp,
    home.bp,
    catalogue.bp,
    booking.bp,
    language.bp,
    mine.bp,
    reservations.bp,
    ops_today.bp,
    display.bp,
    machines.bp,
    ops_alerts.bp,
    ops_dead_letters.bp,
    admin.bp,
    regional.bp,
    floor.bp,
)
PAGE_BLUEPRINTS = frozenset(bp.name for bp in BLUEPRINTS)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

csrf = CSRFProtect()
babel = Babel()


def init_app(app: Flask) -> None:
    web = app.config["SMARTFAB"].web
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=web.secure_cookies,
        # The API authenticates with bearer tokens, not cookies: pages opt in below.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE=LOCALES[0],
        BABEL_DEFAULT_TIMEZONE=app.config["SMARTFAB"].site.default_timezone,
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)

    @app.before_request
    def _page_request() -> None:
        if request.blueprint not in PAGE_BLUEPRINTS:
            return
        auth.load_account()
        if request.method in UNSAFE:
            csrf.protect()

    @app.errorhandler(CSRFError)
    def _csrf_refused(exc: CSRFError) -> tuple[str, int]:
        return render_template("error.html", message=str(EXPIRED)), 400

    app.add_template_filter(money, "money")
    app.add_template_filter(local_time, "local")
    app.add_template_filter(local_clock, "clock")
    app.add_template_filter(local_name, "named")
    app.context_processor(_layout)


def _refused(exc: DomainError) -> tuple[str, int]:
    return render_template("error.html", message=refusal(exc)), exc.status


# A rule's refusal on a page is a page in the reader's language, not the API's JSON.
def _http_refused(exc: HTTPException) -> tuple[str, int]:
    code = "forbidden" if exc.code == 403 else "not_found"
    return render_template(
        "error.html", message=refusal(DomainError("", code=code))
    ), exc.code or 400


for _blueprint in BLUEPRINTS:
    _blueprint.register_error_handler(DomainError, _refused)
    for _status in (403, 404):
        _blueprint.register_error_handler(_status, _http_refused)


def _layout() -> dict[str, Any]:
    """What the layout needs on every page: the account, its roles and the language."""
    return {
        "account": g.get("account"),
        "principal": g.get("principal"),
        "lang": page_language(),
        "locales": LOCALES,
        "statuses": STATUSES,
        "kinds": KINDS,
        "csrf_token": generate_csrf,
        "here": request.full_path.rstrip("?"),
        "session_locale": session.get("locale"),
        "staff_links": staff_links(g.get("principal")),
        "open_alerts": _open_alerts(),
    }


def _open_alerts() -> int | None:
    """How many alerts a staff member has open, for the header (None: not shown)."""
    principal = g.get("principal")
    if principal is None or not principal.is_staff:
        return None
    if "ops_alerts.alerts" not in current_app.view_functions:
        return None
    return count_open(session=get_session(), principal=principal)
