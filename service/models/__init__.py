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
from .site import Blackout, OpeningHours, Site, SitePublic

__all__ = [
    "BLOCKING",
    "Account",
    "AccountPublic",
    "ApiToken",
    "AuditLog",
    "Blackout",
    "Company",
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
    "Site",
    "SitePublic",
    "Training",
]
