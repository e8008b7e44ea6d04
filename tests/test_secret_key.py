"""A server for real use refuses to start without a long secret key, and says which setting."""

from __future__ import annotations

import subprocess
import sys

import pytest

from service.app import wsgi
from service.config import ConfigError, check_production, load_settings

PG = "postgresql+psycopg://smartfab@db.internal/smartfab"
LONG = "k" * 32


def settings(**web):
    overrides = {"web": web}
    url = web.pop("url", None)
    if url:
        overrides["database"] = {"url": url}
    return load_settings(environ={}, overrides=overrides)


@pytest.mark.parametrize(
    "given",
    [
        {"url": PG},
        {"url": PG, "secret_key": "x"},
        {"url": PG, "secret_key": "k" * 31},
        {"production": True},
        {"production": True, "secret_key": "short"},
    ],
)
def test_production_without_a_long_key_is_an_error(given):
    with pytest.raises(ConfigError) as refused:
        check_production(settings(**given))
    assert "web.secret_key (SMARTFAB_WEB__SECRET_KEY)" in str(refused.value)
    assert "at least 32 characters" in str(refused.value)


@pytest.mark.parametrize(
    "given",
    [
        {},  # SQLite, a development server: a random key per process
        {"secret_key": "x"},
        {"url": PG, "secret_key": LONG},
        {"production": True, "secret_key": LONG},
    ],
)
def test_development_or_a_long_key_starts(given):
    check_production(settings(**given))


def test_the_wsgi_entry_refuses_a_short_key():
    with pytest.raises(ConfigError):
        wsgi(web={"production": True, "secret_key": "one"})


@pytest.mark.parametrize("command", [["web"], ["run"]])
def test_the_server_commands_stop_with_the_reason(command, tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "SMARTFAB_DATABASE__URL": f"sqlite:///{tmp_path}/x.db",
        "SMARTFAB_WEB__PRODUCTION": "true",
        "SMARTFAB_WEB__SECRET_KEY": "too-short",
        "SMARTFAB_MQTT__HOST": "127.0.0.1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", *command, "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "SMARTFAB_WEB__SECRET_KEY" in done.stderr and "9 characters" in done.stderr
