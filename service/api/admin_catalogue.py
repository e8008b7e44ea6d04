"""Administering the catalogue: sites, holidays, resources and devices (audited)."""

from __future__ import annotations

from flask import Blueprint, Response

from ..db import get_session
from ..models import Device, ResourcePublic, SitePublic
from ..models.admin import (
    DeviceCreate,
    DeviceCredentials,
    DevicePublic,
    DeviceUpdate,
    HolidayCreate,
    HolidayPublic,
    ResourceCreate,
    ResourceUpdate,
    SiteCreate,
    SiteUpdate,
)
from ..rules import admin_catalogue, admin_devices
from .context import current_principal, now
from .openapi import operation

bp = Blueprint("admin_catalogue", __name__, url_prefix="/api/v1")


@operation(
    bp,
    "/sites",
    "POST",
    summary="Create a site with its opening hours",
    body=SiteCreate,
    response=SitePublic,
    status=201,
    errors=(403, 409),
)
def create_site(body: SiteCreate) -> SitePublic:
    site = admin_catalogue.create_site(
        session=get_session(), now=now(), actor=current_principal(), body=body
    )
    return SitePublic.model_validate(site, from_attributes=True)


@operation(
    bp,
    "/sites/<int:site_id>",
    "PATCH",
    summary="Change a site (hours, when given, replace the week)",
    body=SiteUpdate,
    response=SitePublic,
    errors=(403, 404),
)
def update_site(site_id: int, body: SiteUpdate) -> SitePublic:
    site = admin_catalogue.update_site(
        session=get_session(), now=now(), actor=current_principal(), site_id=site_id, body=body
    )
    return SitePublic.model_validate(site, from_attributes=True)


@operation(
    bp,
    "/sites/<int:site_id>/holidays",
    "POST",
    summary="Close the whole site for a span",
    body=HolidayCreate,
    response=HolidayPublic,
    status=201,
    errors=(403, 404),
)
def add_holiday(site_id: int, body: HolidayCreate) -> HolidayPublic:
    holiday = admin_catalogue.add_holiday(
        session=get_session(), now=now(), actor=current_principal(), site_id=site_id, body=body
    )
    return HolidayPublic(
        id=holiday.id or 0,
        site_id=holiday.site_id,
        start=holiday.start_at,
        end=holiday.end_at,
        reason=holiday.reason,
    )


@operation(
    bp,
    "/sites/<int:site_id>/holidays/<int:blackout_id>",
    "DELETE",
    summary="Open a site again on a holiday",
    status=204,
    errors=(403, 404),
)
def remove_holiday(site_id: int, blackout_id: int) -> Response:
    admin_catalogue.remove_holiday(
        session=get_session(),
        now=now(),
        actor=current_principal(),
        site_id=site_id,
        blackout_id=blackout_id,
    )
    return Response(status=204)


@operation(
    bp,
    "/resources",
    "POST",
    summary="Create a machine or room",
    body=ResourceCreate,
    response=ResourcePublic,
    status=201,
    errors=(403, 409),
)
def create_resource(body: ResourceCreate) -> ResourcePublic:
    resource = admin_catalogue.create_resource(
        session=get_session(), now=now(), actor=current_principal(), body=body
    )
    return ResourcePublic.model_validate(resource, from_attributes=True)


@operation(
    bp,
    "/resources/<int:resource_id>",
    "PATCH",
    summary="Change a machine or room; a new plan or rate is a version from `price_from`",
    body=ResourceUpdate,
    response=ResourcePublic,
    errors=(403, 404, 409),
)
def update_resource(resource_id: int, body: ResourceUpdate) -> ResourcePublic:
    resource = admin_catalogue.update_resource(
        session=get_session(),
        now=now(),
        actor=current_principal(),
        resource_id=resource_id,
        body=body,
    )
    return ResourcePublic.model_validate(resource, from_attributes=True)


def _device(device: Device) -> DevicePublic:
    return DevicePublic.model_validate(device, from_attributes=True)


def _credentials(issued: admin_devices.Issued) -> DeviceCredentials:
    return DeviceCredentials(
        **_device(issued.device).model_dump(),
        username=admin_devices.username_of(session=get_session(), device=issued.device),
        password=issued.password,
    )


@operation(
    bp,
    "/devices",
    "GET",
    summary="Devices of the sites the caller administers",
    response=list[DevicePublic],
    errors=(403,),
)
def list_devices() -> list[DevicePublic]:
    rows = admin_devices.managed_devices(session=get_session(), actor=current_principal())
    return [_device(d) for d, _, _ in rows]


@operation(
    bp,
    "/devices",
    "POST",
    summary="Register a device (its MQTT password is shown once)",
    body=DeviceCreate,
    response=DeviceCredentials,
    status=201,
    errors=(403, 409),
)
def create_device(body: DeviceCreate) -> DeviceCredentials:
    issued = admin_devices.create_device(
        session=get_session(), now=now(), actor=current_principal(), body=body
    )
    return _credentials(issued)


@operation(
    bp,
    "/devices/<int:device_id>/rotate",
    "POST",
    summary="Give a device a new MQTT password (shown once; regenerate the broker's files)",
    response=DeviceCredentials,
    errors=(403, 404),
)
def rotate_device(device_id: int) -> DeviceCredentials:
    issued = admin_devices.rotate_device(
        session=get_session(), now=now(), actor=current_principal(), device_id=device_id
    )
    return _credentials(issued)


@operation(
    bp,
    "/devices/<int:device_id>/revoke",
    "POST",
    summary="Take a device's MQTT credentials away (regenerate the broker's files)",
    response=DevicePublic,
    errors=(403, 404),
)
def revoke_device(device_id: int) -> DevicePublic:
    device = admin_devices.revoke_device(
        session=get_session(), now=now(), actor=current_principal(), device_id=device_id
    )
    return _device(device)


@operation(
    bp,
    "/devices/<int:device_id>",
    "PATCH",
    summary="Bind a device to a resource, or unbind it",
    body=DeviceUpdate,
    response=DevicePublic,
    errors=(403, 404),
)
def update_device(device_id: int, body: DeviceUpdate) -> DevicePublic:
    device = admin_devices.update_device(
        session=get_session(),
        now=now(),
        actor=current_principal(),
        device_id=device_id,
        body=body,
    )
    return _device(device)
