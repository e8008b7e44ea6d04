"""The language switch: a form in every page's header."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from ..db import get_session
from ..rules.accounts import set_locale
from .auth import same_site
from .i18n import LOCALES

bp = Blueprint("language", __name__, template_folder="templates")


@bp.post("/language")
def choose() -> BaseResponse:
    """Remember the choice (on the account when logged in) and go back to the page."""
    chosen = request.form.get("locale", "")
    if chosen not in LOCALES:
        abort(400)
    if g.get("account") is not None:
        db = get_session()
        set_locale(session=db, account_id=g.account.id, locale=chosen)
        db.commit()
    session["locale"] = chosen
    return redirect(same_site(request.form.get("next"), url_for("home.index")))
