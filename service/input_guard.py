"""Text a database refuses is refused at the door, before any view or rule sees it.

PostgreSQL stores no NUL character in text, and no driver can encode a lone UTF-16
surrogate (which JSON's "\\ud800" escapes produce); either would reach the database
as an error, i.e. a 500. One check of every request's path, query, form and JSON body
turns them into a 404 (a path names nothing) or a 422 (bad input), in the error format
of the API or as the error page of the pages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Flask, request

from .errors import NotFound, RuleViolation

# NUL and the surrogates: no UTF-8 text holds them, so no database column can.
REFUSED = re.compile("[\x00\ud800-\udfff]")


def refused_text(value: str) -> bool:
    """Whether a database would refuse this text."""
    return REFUSED.search(value) is not None


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string in a JSON value, keys included, with where it sits."""
    # A loop, not recursion: a deeply nested body must not exhaust the stack.
    stack = [(where, value)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            yield where, value
        elif isinstance(value, dict):
            for key, item in value.items():
                yield where, str(key)
                stack.append((f"{where}.{key}", item))
        elif isinstance(value, list):
            stack.extend((f"{where}.{index}", item) for index, item in enumerate(value))


def _fields(pairs: Iterable[tuple[str, str]], where: str) -> Iterator[tuple[str, str]]:
    for key, value in pairs:
        yield where, key
        yield f"{where}.{key}", value


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _json_body() -> Any:
    """The body as JSON, if it is JSON; what is not is left to the view to refuse."""
    data = request.get_data(cache=True)
    if not data:
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def _first_refused() -> str | None:
    """Where the request carries text a database would refuse, if anywhere."""
    places = [
        *_fields(request.args.items(multi=True), "query"),
        *_fields(request.form.items(multi=True), "form"),
    ]
    if request.mimetype not in _FORMS:
        # The API reads a JSON body whatever its declared type (see api/openapi.py).
        places.extend(_strings(_json_body(), "body"))
    return next((where for where, text in places if refused_text(text)), None)


def check_request() -> None:
    if refused_text(request.path):
        raise NotFound("no such page")
    where = _first_refused()
    if where is not None:
        raise RuleViolation(
            "text may not contain NUL or unpaired surrogate characters",
            {"field": where},
            code="invalid_text",
        )


def init_app(app: Flask) -> None:
    """Check every request before the pages load the account or any view reads input."""
    app.before_request(check_request)
