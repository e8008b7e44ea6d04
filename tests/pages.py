"""Helpers for page tests through Flask's test client, with CSRF protection on."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.factories import PASSWORD

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token a page's form carries, as a browser would read it."""
    found = _TOKEN.search(client.get(path, follow_redirects=True).get_data(as_text=True))
    assert found, f"no CSRF token in {path}"
    return found.group(1)


def login(
    client: FlaskClient,
    email: str = "maker@example.com",
    password: str = PASSWORD,
    next_: str | None = None,
) -> TestResponse:
    url = "/login" + (f"?next={next_}" if next_ else "")
    token = csrf_token(client)
    return client.post(url, data={"email": email, "password": password, "csrf_token": token})
