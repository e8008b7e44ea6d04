"""The message catalogues: complete in Korean, compiled, and covering every refusal code."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from service.pages.messages import REFUSALS, STATUSES

TRANSLATIONS = Path(__file__).resolve().parent.parent / "service" / "translations"


def _catalogue(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


def _ids(catalogue) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue if m.id}


def test_every_message_has_a_korean_translation():
    untranslated = [
        m.id
        for m in _catalogue("ko")
        if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    assert untranslated == []


def test_english_and_korean_catalogues_hold_the_same_messages():
    assert _ids(_catalogue("en")) == _ids(_catalogue("ko"))


def test_the_compiled_korean_catalogue_matches_the_po_file():
    # English needs no translation (the messages are English); Korean must be compiled.
    with open(TRANSLATIONS / "ko" / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = read_mo(f)
    assert _ids(compiled) == _ids(_catalogue("ko")), "run: pybabel compile -d service/translations"


def test_every_refusal_and_status_is_in_the_catalogue():
    ids = _ids(_catalogue("ko"))
    wanted = [str(text._args[0]) for text in [*REFUSALS.values(), *STATUSES.values()]]
    assert [text for text in wanted if text not in ids] == []
