"""Rendering a page, or just one block of it for htmx, from the same template."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from jinja2_fragments.flask import render_block


def render_page(template: str, *, block: str | None = None, **context: Any) -> str:
    """The whole page; only `block` when htmx asks for it, so page and partial never drift."""
    if block is not None and request.headers.get("HX-Request") == "true":
        return str(render_block(template, block, **context))
    return render_template(template, **context)
