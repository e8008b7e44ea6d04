"""Reading an admin form through the API's own shape, and the sentences for what it refuses.

A form is validated by the same pydantic model as the JSON body; each refused value is
shown beside its field, in the page's language, and a rule's refusal above the form.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from flask import request
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ValidationError

from ...errors import DomainError
from ..messages import refusal

Shape = TypeVar("Shape", bound=BaseModel)

FIELD_ERRORS = {
    "missing": _l("Fill in this field."),
    "string_too_short": _l("Fill in this field."),
    "string_too_long": _l("This is too long."),
    "too_long": _l("This is too long."),
    "int_parsing": _l("Enter a whole number."),
    "int_from_float": _l("Enter a whole number."),
    "greater_than_equal": _l("This number is too small."),
    "less_than_equal": _l("This number is too large."),
    "string_pattern_mismatch": _l("Use only letters, digits and the signs the hint allows."),
    "time_parsing": _l("Enter a time such as 09:00."),
    "time_type": _l("Enter a time such as 09:00."),
    "date_parsing": _l("Enter a date such as 2026-03-03."),
    "date_from_datetime_parsing": _l("Enter a date such as 2026-03-03."),
    "datetime_from_date_parsing": _l("Enter a date such as 2026-03-03."),
    "enum": _l("Choose one of the options."),
    "slug": _l("Use lower-case letters, digits and dashes, e.g. laser-2."),
    "time_zone": _l("Enter a time zone such as Asia/Seoul."),
    "email": _l("Enter an e-mail address such as name@example.com."),
    "password_blank": _l("A password cannot be only spaces."),
    "password_short": _l("A password needs at least 10 characters."),
    "password_is_email": _l("A password cannot be the e-mail address."),
    "hours_order": _l("The closing time must be after the opening time."),
    "hours_overlap": _l(
        "A day's opening hours overlap: the second interval starts after the first ends."
    ),
    "invalid_range": _l("The end must be after the start."),
    "min_over_max": _l("The shortest booking cannot be longer than the longest."),
}
FALLBACK = _l("This value is not valid.")

# Refusals of the admin rules, by code; the others are the shared catalogue's.
REFUSALS = {
    "email_taken": _l("An account with this e-mail address exists."),
    "slug_taken": _l("This short name is already used at this site."),
    "taken": _l("This e-mail address or card is already in use."),
    "site_required": _l("An operator needs a site."),
    "unknown_site": _l("Choose one of the sites."),
    "own_account": _l("You cannot take away your own role or deactivate yourself."),
    "min_over_max": FIELD_ERRORS["min_over_max"],
    "resource_elsewhere": _l("The resource must be at the device's site."),
    "password_blank": FIELD_ERRORS["password_blank"],
    "password_short": FIELD_ERRORS["password_short"],
    "password_is_email": FIELD_ERRORS["password_is_email"],
    "billed_period": _l("That day falls in a month already invoiced: choose a later day."),
    "not_after_latest_price": _l("A new price starts after the latest one."),
    "unknown_rate_plan": _l("Choose one of the rate plans."),
}


def admin_refusal(error: DomainError) -> str:
    return str(REFUSALS[error.code]) if error.code in REFUSALS else refusal(error)


def form_values(
    *, flags: Iterable[str] = (), optional: Iterable[str] = (), choices: Iterable[str] = ()
) -> dict[str, Any]:
    """The posted form as a JSON-like dict: ticked boxes true, empty optional fields None.

    A required choice left empty is left out, so that it reads as missing.
    """
    values: dict[str, Any] = {k: v.strip() for k, v in request.form.items() if k != "csrf_token"}
    for name in flags:
        values[name] = name in request.form
    for name in optional:
        if not values.get(name):
            values[name] = None
    for name in choices:
        if not values.get(name):
            values.pop(name, None)
    return values


def validate(shape: type[Shape], values: dict[str, Any]) -> tuple[Shape | None, dict[str, str]]:
    """The shape read from `values`, or None and a sentence per refused field ("" for the form)."""
    try:
        return shape.model_validate(values), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            errors.setdefault(where, str(FIELD_ERRORS.get(error["type"], FALLBACK)))
        return None, errors
