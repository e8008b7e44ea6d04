"""What an e-mail address and a password must be, wherever an account gets one.

The command line, the API and the admin pages all read e-mails and passwords through
these two checks, so each refuses the same values with the same reason.
"""

from __future__ import annotations

import re

from pydantic_core import PydanticCustomError

PASSWORD_MIN = 10
PASSWORD_MAX = 200
EMAIL_MAX = 254

# The dot-atom local part of RFC 5322 and a host name of two labels or more, in ASCII.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"(?P<local>{_LOCAL})@(?P<domain>{_LABEL}(?:\.{_LABEL})+)")


def email_address(value: str) -> str:
    """`value` as stored (trimmed, lower-case), else a PydanticCustomError of type "email"."""
    value = value.strip().lower()
    match = _EMAIL.fullmatch(value)
    if (
        match is None
        or len(value) > EMAIL_MAX
        or len(match["local"]) > 64
        or match["domain"].rsplit(".", 1)[1].isdigit()
    ):
        raise PydanticCustomError("email", "not an e-mail address")
    return value


def password(value: str, *, email: str | None = None) -> str:
    """`value` if it may be a password (of the account with `email`), else why not.

    At least PASSWORD_MIN characters, not only spaces, and not the account's e-mail.
    """
    if not value.strip():
        raise PydanticCustomError("password_blank", "the password must not be only spaces")
    if len(value) < PASSWORD_MIN:
        raise PydanticCustomError(
            "password_short",
            "the password must have at least {min} characters",
            {"min": PASSWORD_MIN},
        )
    if len(value) > PASSWORD_MAX:
        raise PydanticCustomError("too_long", "the password is too long")
    if email is not None and value.strip().lower() == email.strip().lower():
        raise PydanticCustomError("password_is_email", "the password must not be the e-mail")
    return value
