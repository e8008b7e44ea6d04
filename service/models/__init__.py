"""The SQL data model (SQLModel); one module per concept."""

from .account import (
    Account,
    AccountPublic,
    ApiToken,
    Company,
    Role,
    RoleName,
    Training,
)
from .audit import AuditLog
from .reservation import (
    BLOCKING,
    Recurrence,
    Reservation,
    ReservationCreate,
    ReservationPublic,
    ReservationStatus,
    ReservationUpdate,
)
from .resource import Resource, ResourceKind, ResourcePublic
from .scheduling import (
    CommandState,
    DeviceCommand,
    Notification,
    NotificationKind,
    NotificationState,
    SchedulerLease,
)
from .site import Blackout, OpeningHours, Site, SitePublic
from .telemetry import (
    Alert,
    AlertKind,
    DeadLetter,
    DeadLetterCount,
    Device,
    TelemetryPoint,
    UsageSession,
)

__all__ = [
    "BLOCKING",
    "Account",
    "Alert",
    "AlertKind",
    "AccountPublic",
    "ApiToken",
    "AuditLog",
    "Blackout",
    "CommandState",
    "Company",
    "DeadLetter",
    "DeadLetterCount",
    "Device",
    "DeviceCommand",
    "Notification",
    "NotificationKind",
    "NotificationState",
    "OpeningHours",
    "Recurrence",
    "Reservation",
    "ReservationCreate",
    "ReservationPublic",
    "ReservationStatus",
    "ReservationUpdate",
    "Resource",
    "ResourceKind",
    "ResourcePublic",
    "Role",
    "RoleName",
    "SchedulerLease",
    "Site",
    "SitePublic",
    "TelemetryPoint",
    "Training",
    "UsageSession",
]
