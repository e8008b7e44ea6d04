"""Settings: config.toml defaults, overridden by SMARTFAB_<SECTION>__<KEY> variables."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse_many
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

if TYPE_CHECKING:
    from devices.client import TlsOptions

ENV_PREFIX = "SMARTFAB_"
DEFAULT_FILE = Path(__file__).resolve().parent.parent / "config.toml"


class ConfigError(Exception):
    """A setting has a value smartfab cannot use; the message names the setting."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = "sqlite:///instance/smartfab.db"

    @field_validator("url")
    @classmethod
    def _parsable(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL: {value!r}") from exc
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {url.get_backend_name()!r}")
        return value


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    # `smartfab web` processes (0: one per CPU core), each with `threads` threads.
    workers: int = Field(0, ge=0, le=64)
    threads: int = Field(8, ge=1, le=256)
    secret_key: str = ""
    # Send the session cookie over HTTPS only; on behind a TLS-terminating proxy.
    secure_cookies: bool = False
    max_body_kib: int = Field(64, ge=1)
    # Reverse proxies in front of the web server whose X-Forwarded-For and -Proto to trust
    # (0: none). Behind one, every client would otherwise share the proxy's address.
    proxy_hops: int = Field(0, ge=0, le=5)
    # A deployment: a secret key of at least 32 characters is then required (also implied
    # by a database other than SQLite).
    production: bool = False
    # Logins (page and API token) each client address, and each e-mail, may try; counted
    # in each web process's memory. See https://limits.readthedocs.io for the notation.
    login_limit_per_address: str = "20/minute;100/hour"
    login_limit_per_account: str = "10/minute;50/hour"

    @field_validator("login_limit_per_address", "login_limit_per_account")
    @classmethod
    def _rate(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"not a rate such as 10/minute: {value!r}") from exc
        return value


def _mqtt_setting(name: str) -> str:
    return f"mqtt.{name} ({ENV_PREFIX}MQTT__{name.upper()})"


class MqttSettings(_Section):
    host: str = ""
    port: int = Field(1883, ge=1, le=65535)
    # The listener's service account (it may read every device's topics).
    username: str = ""
    password: str = ""
    # The scheduler's own account (the only one that may publish commands); empty: the
    # listener's, as before there were two.
    scheduler_username: str = ""
    scheduler_password: str = ""
    tls: bool = False
    # PEM files for TLS: the CA the broker's certificate must chain to (empty: the
    # system's CAs), and a client certificate with its key (empty: none).
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    client_id: str = "smartfab-listener"
    topic_root: str = "smartfab"
    shared_group: str = ""

    @model_validator(mode="after")
    def _tls_files(self) -> MqttSettings:
        files = {"ca_file": self.ca_file, "cert_file": self.cert_file, "key_file": self.key_file}
        given = [_mqtt_setting(name) for name, path in files.items() if path]
        if given and not self.tls:
            raise ValueError(f"{' and '.join(given)} given but mqtt.tls is false; set it true")
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError(
                f"{_mqtt_setting('cert_file')} and {_mqtt_setting('key_file')} go together: "
                "a client certificate needs its key"
            )
        for name, path in files.items():
            if path and not Path(path).is_file():
                raise ValueError(f"{_mqtt_setting(name)}: no file {path!r}")
        if given:
            from devices.client import tls_context

            try:
                tls_context(ca_file=self.ca_file, cert_file=self.cert_file, key_file=self.key_file)
            except OSError as exc:  # ssl.SSLError included
                raise ValueError(f"{' and '.join(given)} do not load: {exc}") from exc
        return self

    def tls_options(self) -> TlsOptions:
        """The TLS arguments of `devices.client.make_client` and the simulator."""
        return {
            "tls": self.tls,
            "ca_file": self.ca_file,
            "cert_file": self.cert_file,
            "key_file": self.key_file,
        }

    def for_scheduler(self) -> MqttSettings:
        """These settings with the scheduler's credentials in `username`/`password`."""
        if not self.scheduler_username:
            return self
        return self.model_copy(
            update={"username": self.scheduler_username, "password": self.scheduler_password}
        )


class InfluxSettings(_Section):
    url: str = ""
    token: str = ""
    org: str = "smartfab"
    bucket: str = "smartfab"
    # Batches InfluxDB could not take wait here until it answers again.
    spool_dir: str = "instance/influx-spool"


class SiteSettings(_Section):
    default_timezone: str = "Asia/Seoul"

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class BookingSettings(_Section):
    max_recurrences: int = Field(100, ge=1, le=1000)
    token_ttl_days: int = Field(30, ge=1)


class SupplierSettings(_Section):
    """The center as the supplier (공급자) named on invoices and tax invoices."""

    name: str = "서울시 광역 소공인특화지원센터"
    # 사업자등록번호, written 000-00-00000
    business_number: str = Field("101-82-12348", pattern=r"^\d{3}-\d{2}-\d{5}$")
    representative: str = "정하늘"
    address: str = "서울특별시 성동구 성수이로 (성수사거리)"
    email: str = "billing@smartfab.example"


class BillingSettings(_Section):
    currency: str = "KRW"
    vat_rate: float = Field(0.10, ge=0, le=1)
    # Share of the booked time charged for a no-show where the rate plan does not say.
    no_show_percent: int = Field(50, ge=0, le=100)
    # Hours after a month ends during which a run still open holds its issue back.
    close_grace_h: int = Field(72, ge=0)
    # An invoice is due this many days after the day it was issued (site time).
    payment_due_days: int = Field(30, ge=0, le=365)
    # A TrueType/OpenType font with Hangul for invoice PDFs; empty: Noto Sans CJK KR from
    # Debian's fonts-noto-cjk (taken out of its collection once, into the instance folder).
    pdf_font: str = ""
    supplier: SupplierSettings = SupplierSettings()


class SchedulerSettings(_Section):
    no_show_after_min: int = Field(15, ge=0)
    warn_before_end_min: int = Field(5, ge=0)
    offline_after_s: int = Field(180, ge=1)
    unknown_device_quiet_min: int = Field(60, ge=1)
    overstay_grace_min: int = Field(10, ge=0)
    tick_s: float = Field(2.0, gt=0, le=60)
    command_retry_s: float = Field(5.0, gt=0)
    command_max_tries: int = Field(5, ge=1, le=20)
    lease_ttl_s: float = Field(15.0, gt=0)
    # Audit entries older than this are not turned into notifications any more.
    notify_lookback_h: int = Field(24, ge=1)


class TelemetrySettings(_Section):
    # A sample whose `ts` is further ahead of the server clock is a dead letter.
    max_clock_skew_s: int = Field(300, ge=0, le=86_400)
    # Dead letters older than this are deleted by the scheduler, in batches.
    dead_letter_retention_days: int = Field(30, ge=1)


class MailSettings(_Section):
    host: str = ""
    port: int = Field(25, ge=1, le=65535)
    username: str = ""
    password: str = ""
    starttls: bool = False
    sender: str = "smartfab@localhost"
    notify_lead_min: int = Field(60, ge=0)


class Settings(_Section):
    database: DatabaseSettings = DatabaseSettings()
    web: WebSettings = WebSettings()
    mqtt: MqttSettings = MqttSettings()
    influxdb: InfluxSettings = InfluxSettings()
    site: SiteSettings = SiteSettings()
    booking: BookingSettings = BookingSettings()
    billing: BillingSettings = BillingSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    mail: MailSettings = MailSettings()


SECRET_KEY_MIN = 32


def check_production(settings: Settings) -> None:
    """ConfigError unless a server for real use has a long enough secret key.

    A server is for real use with `[web] production = true` or a database other than
    SQLite. Without a fixed key every process signs session cookies with its own random
    one; a short one can be guessed, and with it anybody's page login forged.
    """
    production = settings.web.production or not settings.database.url.startswith("sqlite")
    key = settings.web.secret_key
    if not production or len(key) >= SECRET_KEY_MIN:
        return
    problem = "is not set" if not key else f"has {len(key)} characters"
    raise ConfigError(
        f"web.secret_key (SMARTFAB_WEB__SECRET_KEY) {problem}; a production server needs a "
        f"random key of at least {SECRET_KEY_MIN} characters, the same for every process, "
        'e.g. from: python3 -c "import secrets; print(secrets.token_hex(32))"'
    )


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        # SMARTFAB_BILLING__SUPPLIER__NAME reaches [billing.supplier] name.
        *sections, key = name[len(ENV_PREFIX) :].lower().split("__")
        target: dict[str, Any] = overrides
        for section in sections:
            target = target.setdefault(section, {})
        target[key] = value
    return overrides


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping):
            merged[key] = _merge(merged.get(key) or {}, value)
        else:
            merged[key] = value
    return merged


def load_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read config.toml, apply environment and explicit overrides, validate."""
    named = os.environ.get("SMARTFAB_CONFIG") if environ is None else environ.get("SMARTFAB_CONFIG")
    if path is None and named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"SMARTFAB_CONFIG names {path}, which is not a readable file")
    path = path or DEFAULT_FILE
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
    data = _merge(data, _env_overrides(os.environ if environ is None else environ))
    data = _merge(data, overrides or {})
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            setting = ".".join(str(part) for part in err["loc"])
            env_name = ENV_PREFIX + "__".join(str(p).upper() for p in err["loc"])
            problems.append(f"{setting} ({env_name}): {err['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from exc
