"""The languages smartfab speaks, and its message catalogues outside a web request.

Pages get their language from Flask-Babel; e-mails, written by the scheduler, read the
same compiled catalogues here, in the language of the person they are for.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

LOCALES = ("ko", "en")
# The language of a site by its time zone; a zone not listed has none of its own.
ZONE_LOCALES = {"Asia/Seoul": "ko"}
FOLDER = Path(__file__).parent / "translations"


def zone_locale(zone: str) -> str | None:
    return ZONE_LOCALES.get(zone)


def person_locale(chosen: str | None, zone: str) -> str:
    """The account's choice, else the site's language, else the first we speak."""
    if chosen in LOCALES:
        return str(chosen)
    return zone_locale(zone) or LOCALES[0]


@cache
def catalogue(locale: str) -> NullTranslations:
    return Translations.load(str(FOLDER), [locale])


def mark(message: str) -> str:
    """Marks a message for the catalogue where it is defined; translated where it is used."""
    return message
