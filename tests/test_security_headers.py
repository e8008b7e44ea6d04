"""Every answer tells the browser what it may load and frame; the pages hold no inline script."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.pages import login

pytestmark = pytest.mark.sqlite_only

PAGES = Path(__file__).resolve().parent.parent / "service" / "pages"


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def assert_secure(response):
    csp = directives(response)
    assert csp["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp["default-src"] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "path", ["/login", "/", "/api/v1/openapi.json", "/api/v1/ping", "/healthz", "/nowhere"]
)
def test_anonymous_answers_carry_the_headers(client, world, path):
    assert_secure(client.get(path))


def test_pages_api_errors_and_posts_carry_the_headers(client, world):
    assert_secure(login(client, password="wrong password"))
    assert_secure(login(client))
    assert_secure(client.get("/me/reservations"))
    assert_secure(client.get("/api/v1/reservations"))  # 401 without a token
    with client.get("/static/smartfab.css") as static:
        assert_secure(static)


def test_the_display_may_not_be_framed_either(client, world, session):
    from service.models import Resource

    resource = session.get(Resource, world.id("laser"))
    answer = client.get(f"/display/{resource.display_secret or 'unknown'}")
    assert_secure(answer)
    assert directives(answer)["frame-ancestors"] == "'none'"


def test_the_api_docs_load_their_script_from_a_file(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert_secure(page)
    # Swagger UI styles its elements inline; scripts still only from files.
    assert "'unsafe-inline'" in directives(page)["style-src"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    for attrs, _ in scripts:
        src = re.search(r'src="([^"]+)"', attrs).group(1)
        with client.get(src) as loaded:
            assert loaded.status_code == 200
    assert "SwaggerUIBundle" in client.get("/api/v1/docs/start.js").text


def test_no_template_has_an_inline_script_or_handler():
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:|hx-on|<style", re.I
    )
    offenders = [
        f"{path.relative_to(PAGES)}: {found.group(0)}"
        for path in PAGES.rglob("*.html")
        for found in inline.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_no_template_has_a_style_attribute():
    # style-src 'self' refuses style="…" attributes as well.
    offenders = [
        str(path.relative_to(PAGES))
        for path in PAGES.rglob("*.html")
        if re.search(r"\sstyle\s*=", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
