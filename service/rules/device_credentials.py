"""A device's MQTT credentials: its broker user name, a fresh password, and the hash kept.

The hash is in Mosquitto 2's own password-file format (`$7$<iterations>$<salt>$<hash>`,
PBKDF2-HMAC-SHA512, as `mosquitto_passwd` writes), so the broker's password file is
generated from the registry and no password is ever stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# Mosquitto's own defaults. The passwords are 192 random bits, so stretching adds nothing
# an attacker holding the hashes would notice, while the broker pays it on every connect.
ITERATIONS = 101
SALT_BYTES = 12
_DIGEST = "sha512"


def new_password() -> str:
    """A fresh random password (32 URL-safe characters), shown once and never stored."""
    return secrets.token_urlsafe(24)


def mqtt_username(site_slug: str, device_slug: str) -> str:
    """`{site}.{device}`: slugs are [a-z0-9-], so the dot cannot be ambiguous, and neither
    `:` (the password file's separator) nor `/` (topic patterns) appears."""
    return f"{site_slug}.{device_slug}"


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The Mosquitto `$7$` hash of `password` with a fresh salt (or the one given)."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac(_DIGEST, password.encode(), salt, iterations)
    encoded_salt = base64.b64encode(salt).decode()
    return f"$7${iterations}${encoded_salt}${base64.b64encode(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches a `$7$` hash; False for anything else (an empty hash too)."""
    parts = encoded.split("$")
    if len(parts) != 5 or parts[0] != "" or parts[1] != "7" or not parts[2].isdigit():
        return False
    try:
        salt = base64.b64decode(parts[3], validate=True)
        expected = base64.b64decode(parts[4], validate=True)
    except ValueError:
        return False
    digest = hashlib.pbkdf2_hmac(_DIGEST, password.encode(), salt, int(parts[2]))
    return hmac.compare_digest(digest, expected)
