"""Settings come from config.toml, overridden by SMARTFAB_* variables, checked at start."""

from __future__ import annotations

import pytest

from service.config import ConfigError, load_settings
from tests.conftest import ROOT

CONFIG = ROOT / "config.toml"


def test_defaults_are_the_embedded_ones():
    settings = load_settings(path=CONFIG, environ={})
    assert settings.database.url.startswith("sqlite:///")
    assert settings.mqtt.host == ""
    assert settings.influxdb.url == ""
    assert settings.site.default_timezone == "Asia/Seoul"
    assert settings.billing.vat_rate == 0.10


def test_environment_overrides_config_file():
    settings = load_settings(
        path=CONFIG,
        environ={
            "SMARTFAB_DATABASE__URL": "postgresql+psycopg://u@db/smartfab",
            "SMARTFAB_SCHEDULER__NO_SHOW_AFTER_MIN": "20",
        },
    )
    assert settings.database.url == "postgresql+psycopg://u@db/smartfab"
    assert settings.scheduler.no_show_after_min == 20


@pytest.mark.parametrize(
    "name,value,mentions",
    [
        ("SMARTFAB_DATABASE__URL", "not a url", "SMARTFAB_DATABASE__URL"),
        ("SMARTFAB_DATABASE__URL", "mysql://x@y/z", "database.url"),
        ("SMARTFAB_WEB__PORT", "eighty", "web.port"),
        ("SMARTFAB_SITE__DEFAULT_TIMEZONE", "Mars/Olympus", "site.default_timezone"),
        ("SMARTFAB_BILLING__VAT_RATE", "10", "billing.vat_rate"),
        ("SMARTFAB_WEB__COLOUR", "blue", "web.colour"),
    ],
)
def test_a_bad_value_is_refused_naming_the_setting(name, value, mentions):
    with pytest.raises(ConfigError) as caught:
        load_settings(path=CONFIG, environ={name: value})
    assert mentions in str(caught.value)


def test_an_unreadable_config_file_is_refused(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text("[database\nurl = 1")
    with pytest.raises(ConfigError, match="config.toml"):
        load_settings(path=bad, environ={})


def test_a_named_config_file_that_is_missing_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="SMARTFAB_CONFIG"):
        load_settings(environ={"SMARTFAB_CONFIG": str(tmp_path / "nope.toml")})


def test_nested_sections_take_environment_overrides_too():
    settings = load_settings(
        environ={
            "SMARTFAB_BILLING__SUPPLIER__NAME": "성수 센터",
            "SMARTFAB_BILLING__PAYMENT_DUE_DAYS": "14",
        }
    )
    assert settings.billing.supplier.name == "성수 센터"
    assert settings.billing.payment_due_days == 14
    # The rest of the supplier stays as config.toml has it.
    assert settings.billing.supplier.business_number == "101-82-12348"
