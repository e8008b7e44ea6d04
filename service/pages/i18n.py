"""Which language a page speaks, and how it writes money and times.

The locale is the account's choice, else the one chosen this session (not logged in),
else the site's language (Korean for a site in Seoul), else the browser's
Accept-Language.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from flask import current_app, g, request, session
from flask_babel import get_locale

from ..languages import LOCALES, zone_locale


def select_locale() -> str:
    """Flask-Babel's locale selector."""
    account = g.get("account")
    if account is not None and account.locale in LOCALES:
        return str(account.locale)
    if session.get("locale") in LOCALES:
        return str(session["locale"])
    by_zone = zone_locale(current_app.config["SMARTFAB"].site.default_timezone)
    if by_zone is not None:
        return by_zone
    # A site without a language of its own: the browser's choice.
    return request.accept_languages.best_match(LOCALES) or LOCALES[0]


def site_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["SMARTFAB"].site.default_timezone)


def language() -> str:
    return str(get_locale() or LOCALES[0])


def money(amount: int) -> str:
    """Integer won as people write it: 25,000원 in Korean, ₩25,000 in English.

    A credit is -25,000원 or -₩25,000: the sign goes before the currency sign.
    """
    if language() == "ko":
        return f"{amount:,}원"
    return f"-₩{-amount:,}" if amount < 0 else f"₩{amount:,}"


def local_time(value: datetime, zone: ZoneInfo | None = None) -> str:
    """A stored UTC time in the site's zone, e.g. '2026-03-03 10:00 KST'."""
    return value.astimezone(zone or site_zone()).strftime("%Y-%m-%d %H:%M %Z")


def local_clock(value: datetime, zone: ZoneInfo | None = None) -> str:
    """Only the wall-clock time, e.g. '10:00'."""
    return value.astimezone(zone or site_zone()).strftime("%H:%M")


class Named(Protocol):
    name: str
    name_en: str


def local_name(thing: Named) -> str:
    """A site's or resource's name in the page's language (Korean when there is no English)."""
    if language() == "en" and thing.name_en:
        return thing.name_en
    return thing.name
