"""What the scheduler keeps: commands sent to devices, notifications, and its lease."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text
from sqlmodel import Field, SQLModel

from .types import UTCDateTime


class CommandState(StrEnum):
    pending = "pending"  # waiting for due_at
    sent = "sent"  # published, waiting for its cmd/ack
    acked = "acked"
    refused = "refused"  # the device answered ok=false
    failed = "failed"  # no ack after the last try
    superseded = "superseded"  # a newer enable/disable for the device made it moot
    expired = "expired"  # no longer useful by the time it could go out


# States in which a command may still be (re)published.
OPEN_COMMANDS = (CommandState.pending, CommandState.sent)


class DeviceCommand(SQLModel, table=True):
    """One `cmd` to a device, tracked until its `cmd/ack`.

    `key` makes a command once-only (e.g. "disable:12:3": the disable of reservation
    12 on device 3): whoever inserts it first sends it, a second scheduler cannot.
    """

    __tablename__ = "device_command"
    __table_args__ = (
        Index("ix_device_command_attention", "state", "next_try_at"),
        Index("ix_device_command_reservation", "reservation_id", "action"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The id on the wire, echoed by the device's cmd/ack.
    uid: str = Field(max_length=32, unique=True)
    key: str = Field(max_length=96, unique=True)
    device_id: int = Field(foreign_key="device.id", index=True)
    resource_id: int = Field(foreign_key="resource.id")
    reservation_id: int | None = Field(default=None, foreign_key="reservation.id")
    action: str = Field(max_length=16)
    until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message: str = Field(default="", max_length=300)
    # "slot" (the scheduler) or "badge" (an answer to a tap).
    source: str = Field(default="slot", max_length=16)
    state: CommandState = Field(default=CommandState.pending, sa_type=String(16))
    created_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    # When the command needs looking at again: its due time, then its next retry.
    next_try_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    tries: int = 0


class NotificationKind(StrEnum):
    reminder = "reminder"
    approved = "approved"
    declined = "declined"
    cancelled = "cancelled"
    no_show = "no_show"


class NotificationState(StrEnum):
    pending = "pending"
    sent = "sent"
    skipped = "skipped"  # no longer true or useful when it was due (e.g. cancelled)
    failed = "failed"


class Notification(SQLModel, table=True):
    """A message to a person about a reservation; e-mailed when SMTP is configured."""

    __table_args__ = (Index("ix_notification_attention", "state", "next_try_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=96, unique=True)
    kind: NotificationKind = Field(sa_type=String(16))
    account_id: int = Field(foreign_key="account.id", index=True)
    reservation_id: int | None = Field(default=None, foreign_key="reservation.id", index=True)
    # The audit entry the notification reports, if any.
    audit_id: int | None = Field(default=None, foreign_key="audit_log.id", unique=True)
    subject: str = Field(max_length=200)
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    state: NotificationState = Field(default=NotificationState.pending, sa_type=String(16))
    next_try_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    tries: int = 0
    error: str = Field(default="", max_length=300)


class SchedulerLease(SQLModel, table=True):
    """Who may run the scheduler's jobs until `expires_at`; renewed while alive."""

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=128)
    acquired_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
