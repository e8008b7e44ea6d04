"""Devices and what their messages leave in SQL: usage sessions, alerts, dead letters.

Raw time series live in a telemetry store (InfluxDB, or the `telemetry_point`
table below when none is configured).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    text,
)
from sqlmodel import Field, SQLModel

from .types import UTCDateTime


class Device(SQLModel, table=True):
    """A machine controller or room sensor publishing as {site}/{slug}, with its live status."""

    __table_args__ = (Index("uq_device_site_slug", "site_id", "slug", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    resource_id: int | None = Field(default=None, foreign_key="resource.id", index=True)
    slug: str = Field(max_length=64)
    # The hash of the device's MQTT password, in Mosquitto's password-file format (the
    # password itself is shown once and never stored); empty until credentials are issued.
    password_hash: str = Field(default="", max_length=255)
    # A revoked device is left out of the broker's password file and ACL.
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    online: bool = False
    last_seen: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Time of the newest telemetry sample applied; older samples never move session edges.
    last_ts: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Time of the newest status message (online/offline) applied.
    status_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    state: str | None = Field(default=None, max_length=16)
    state_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_values: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    last_card: str | None = Field(default=None, max_length=32)
    last_card_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UsageSession(SQLModel, table=True):
    """A run of a machine, from the first `running` sample to the first one that is not."""

    __tablename__ = "usage_session"
    __table_args__ = (
        # At most one open session per device.
        Index(
            "uq_usage_session_open",
            "device_id",
            unique=True,
            postgresql_where=text("end_at IS NULL"),
            sqlite_where=text("end_at IS NULL"),
        ),
        # Covers the utilisation report's ranges per resource and bucket (report_ranges.py).
        Index(
            "ix_usage_session_resource_span",
            "resource_id",
            "start_at",
            "end_at",
            "last_sample_at",
            "run_seconds",
            "energy_wh",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(foreign_key="resource.id")
    device_id: int = Field(foreign_key="device.id", index=True)
    reservation_id: int | None = Field(default=None, foreign_key="reservation.id", index=True)
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    walk_in: bool = False
    unauthorised: bool = False
    start_at: datetime = Field(sa_type=UTCDateTime)
    end_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Why it ended: "state" (a sample said so), "offline" or "stale" (the device went quiet).
    ended_by: str | None = Field(default=None, max_length=16)
    run_seconds: int = 0
    energy_wh: float = 0.0
    # The newest sample folded into run_seconds and energy_wh.
    last_sample_at: datetime = Field(sa_type=UTCDateTime)


class AlertKind(StrEnum):
    offline = "offline"
    fault = "fault"
    unauthorised_use = "unauthorised_use"
    overstay = "overstay"
    unknown_device = "unknown_device"
    command_failed = "command_failed"


class Alert(SQLModel, table=True):
    """Something an operator should look at; at most one open alert per kind and subject."""

    __table_args__ = (
        Index(
            "uq_alert_open",
            "kind",
            "subject",
            unique=True,
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    site_id: int | None = Field(default=None, foreign_key="site.id", index=True)
    resource_id: int | None = Field(default=None, foreign_key="resource.id", index=True)
    device_id: int | None = Field(default=None, foreign_key="device.id", index=True)
    kind: AlertKind = Field(sa_type=String(32))
    # What the alert is about, e.g. "seongsu/laser-1" (also for devices not registered).
    subject: str = Field(max_length=160)
    message: str = Field(default="", max_length=500)
    opened_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by: int | None = Field(default=None, foreign_key="account.id")
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ack_note: str = Field(default="", max_length=500)
    closed_by: int | None = Field(default=None, foreign_key="account.id")
    close_note: str = Field(default="", max_length=500)
    # An alert that groups many occurrences (unregistered devices of a site): how many
    # messages it stands for, when the newest came, and the last few names seen.
    count: int = 1
    last_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    recent: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class DeadLetter(SQLModel, table=True):
    """A message that broke the contract, kept for an operator to read."""

    __tablename__ = "dead_letter"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    topic: str = Field(max_length=512)
    site: str | None = Field(default=None, max_length=64, index=True)
    device: str | None = Field(default=None, max_length=64)
    reason: str = Field(max_length=64)
    # The first KiB of the payload as received, and how long it really was.
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    size: int = 0


class DeadLetterCount(SQLModel, table=True):
    """How many dead letters each source (site/device, or a bad topic) sent per reason."""

    __tablename__ = "dead_letter_count"
    __table_args__ = (PrimaryKeyConstraint("source", "reason"),)

    source: str = Field(max_length=160)
    reason: str = Field(max_length=64)
    count: int = 0
    first_at: datetime = Field(sa_type=UTCDateTime)
    last_at: datetime = Field(sa_type=UTCDateTime)


class TelemetryPoint(SQLModel, table=True):
    """One field of one sample, for the embedded telemetry store (no InfluxDB configured)."""

    __tablename__ = "telemetry_point"
    __table_args__ = (PrimaryKeyConstraint("site", "resource", "field", "ts_ms"),)

    site: str = Field(max_length=64)
    resource: str = Field(max_length=64)
    field: str = Field(max_length=64)
    # Milliseconds since the epoch, UTC: InfluxDB's precision, and easy to bucket on any SQL.
    ts_ms: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: str = Field(default="", max_length=16)
    # One of: "f" float, "i" integer, "b" boolean (value_num is 0/1), "s" string.
    vtype: str = Field(default="f", max_length=1)
    value_num: float | None = None
    value_text: str | None = Field(default=None, max_length=256)
