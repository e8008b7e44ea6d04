"""The admin blueprint and what its views share: labels and how a form page answers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from ...models import RoleName
from ..render import render_page

Page = str | BaseResponse | tuple[str, int]

bp = Blueprint("admin", __name__, template_folder="../templates", url_prefix="/admin")

ROLES = {
    RoleName.maker: _l("Maker"),
    RoleName.operator: _l("Operator"),
    RoleName.admin: _l("Administrator"),
}
WEEKDAYS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)


def saved(page: str, errors: dict[str, str], **context: Any) -> Page:
    """The form page, 422 when it shows what was refused."""
    rendered = render_page(page, errors=errors, **context)
    return (rendered, 422) if errors else rendered
