"""Devices: which controller or sensor reports for which machine or room."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from ...api.context import now
from ...db import get_session
from ...errors import DomainError
from ...models import Device
from ...models.admin import DeviceCreate, DeviceUpdate
from ...rules import admin_catalogue, admin_devices
from ..auth import staff_required
from ..i18n import local_name
from ..render import render_page
from .base import Page, bp
from .forms import admin_refusal, form_values, validate


def _resource_options(site_id: int | None = None) -> list[tuple[int | None, str]]:
    rows = admin_catalogue.managed_resources(
        session=get_session(), actor=g.principal, site_id=site_id
    )
    return [(r.id, f"{local_name(r)} · {local_name(s)}") for r, s in rows]


def _flash_password(username: str, password: str) -> None:
    flash(
        _(
            "Its MQTT user name is %(username)s and its password, shown only this once, "
            "%(password)s. Regenerate the broker's files (smartfab mqtt config) for it to apply.",
            username=username,
            password=password,
        )
    )


@bp.get("/devices")
@staff_required
def devices() -> str:
    rows = admin_devices.managed_devices(session=get_session(), actor=g.principal)
    return render_page("admin/devices.html", rows=rows)


@bp.route("/devices/new", methods=["GET", "POST"])
@staff_required
def new_device() -> Page:
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = form_values(optional=("resource_id",), choices=("site_id",))
        body, errors = validate(DeviceCreate, values)
        if body is not None:
            db = get_session()
            try:
                issued = admin_devices.create_device(
                    session=db, now=now(), actor=g.principal, body=body
                )
            except DomainError as exc:
                db.rollback()
                errors = {"": admin_refusal(exc)}
            else:
                username = admin_devices.username_of(session=db, device=issued.device)
                db.commit()
                flash(_("The device %(slug)s has been registered.", slug=issued.device.slug))
                _flash_password(username, issued.password)
                return redirect(url_for("admin.devices"))
    sites = admin_catalogue.managed_sites(session=get_session(), actor=g.principal)
    page = render_page(
        "admin/device.html",
        device=None,
        values=values,
        errors=errors,
        site_options=[(s.id, local_name(s)) for s in sites],
        resource_options=_resource_options(),
    )
    return (page, 422) if errors else page


@bp.route("/devices/<int:device_id>", methods=["GET", "POST"])
@staff_required
def device(device_id: int) -> Page:
    db = get_session()
    found = admin_devices.load_device_for(session=db, actor=g.principal, device_id=device_id)
    values: dict[str, Any] = {"resource_id": found.resource_id}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = form_values(optional=("resource_id",))
        body, errors = validate(DeviceUpdate, values)
        if body is not None:
            try:
                admin_devices.update_device(
                    session=db, now=now(), actor=g.principal, device_id=device_id, body=body
                )
            except DomainError as exc:
                db.rollback()
                errors = {"resource_id": admin_refusal(exc)}
            else:
                db.commit()
                flash(_("The device %(slug)s has been saved.", slug=found.slug))
                return redirect(url_for("admin.devices"))
    page = render_page(
        "admin/device.html",
        device=found,
        values=values,
        errors=errors,
        resource_options=_resource_options(found.site_id),
        username=admin_devices.username_of(session=db, device=found),
        credentials=_credentials_state(found),
        can_revoke=found.revoked_at is None,
    )
    return (page, 422) if errors else page


def _credentials_state(device: Device) -> str:
    """What the page says of the device's credentials: revoked, issued, or never issued."""
    if device.revoked_at is not None:
        return _("Revoked: the device cannot connect to the broker.")
    if device.password_hash:
        return _("Issued: the device connects with its own password.")
    return _("None yet: make a password for the device to connect.")


@bp.post("/devices/<int:device_id>/rotate")
@staff_required
def rotate_device(device_id: int) -> BaseResponse:
    db = get_session()
    issued = admin_devices.rotate_device(
        session=db, now=now(), actor=g.principal, device_id=device_id
    )
    username = admin_devices.username_of(session=db, device=issued.device)
    db.commit()
    flash(_("The device %(slug)s has a new MQTT password.", slug=issued.device.slug))
    _flash_password(username, issued.password)
    return redirect(url_for("admin.device", device_id=device_id))


@bp.post("/devices/<int:device_id>/revoke")
@staff_required
def revoke_device(device_id: int) -> BaseResponse:
    db = get_session()
    device = admin_devices.revoke_device(
        session=db, now=now(), actor=g.principal, device_id=device_id
    )
    db.commit()
    flash(
        _(
            "The device %(slug)s can no longer connect once the broker's files are "
            "regenerated (smartfab mqtt config).",
            slug=device.slug,
        )
    )
    return redirect(url_for("admin.device", device_id=device_id))
