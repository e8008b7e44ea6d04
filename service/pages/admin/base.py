"""The admin blueprint and what its views share: labels, the units of work, refusals."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ...models import RoleName

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
