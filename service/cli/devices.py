"""Device credentials and the broker's configuration generated from them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlmodel import Session

from . import _Context, cli, pass_context

REMINDER = "run `smartfab mqtt config --dir DIR` (or pass --apply DIR) for the broker to apply it"


def _reload_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--reload-command", default=None, help="Run this to reload Mosquitto instead."
    )(command)
    return click.option(
        "--pid-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="Mosquitto's pid file: it gets a SIGHUP to reload the files.",
    )(command)


def _apply_option(command: Callable[..., Any]) -> Callable[..., Any]:
    command = _reload_options(command)
    return click.option(
        "--apply",
        "apply_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Also regenerate the broker's files in this directory.",
    )(command)


@contextmanager
def _session(ctx: _Context) -> Iterator[Session]:
    from ..db import make_engine, write_session
    from ..errors import DomainError

    engine = make_engine(ctx.settings.database.url)
    try:
        with write_session(engine) as session:
            yield session
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        engine.dispose()


def _generate(
    ctx: _Context,
    session: Session,
    directory: Path,
    pid_file: Path | None,
    reload_command: str | None,
) -> None:
    from subprocess import CalledProcessError

    from .. import broker_access

    try:
        files, reloaded = broker_access.generate(
            session=session,
            mqtt=ctx.settings.mqtt,
            directory=directory,
            pid_file=pid_file,
            reload_command=reload_command,
        )
    except (broker_access.AccessError, OSError, ValueError, CalledProcessError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote passwd, acl and mosquitto.conf for {files.users} accounts to {directory}")
    click.echo(reloaded or "reload Mosquitto (SIGHUP) for the files to take effect")


def _after_change(
    ctx: _Context,
    session: Session,
    apply_dir: Path | None,
    pid_file: Path | None,
    reload_command: str | None,
) -> None:
    if apply_dir is None:
        click.echo(REMINDER)
    else:
        _generate(ctx, session, apply_dir, pid_file, reload_command)


@cli.group()
def devices() -> None:
    """Devices and their MQTT credentials."""


@devices.command("add")
@click.argument("site")
@click.argument("slug")
@click.option("--resource", "resource_slug", default=None, help="Slug of the resource it serves.")
@_apply_option
@pass_context
def devices_add(
    ctx: _Context,
    site: str,
    slug: str,
    resource_slug: str | None,
    apply_dir: Path | None,
    pid_file: Path | None,
    reload_command: str | None,
) -> None:
    """Register a device; prints its MQTT user name and password (shown only this once)."""
    from pydantic import ValidationError
    from sqlmodel import select

    from ..clock import utcnow
    from ..models import Resource, Site
    from ..models.admin import DeviceCreate
    from ..rules import admin_devices

    with _session(ctx) as session:
        found = session.exec(select(Site).where(Site.slug == site)).first()
        if found is None or found.id is None:
            raise click.ClickException(f"no site {site!r}")
        resource_id = None
        if resource_slug is not None:
            resource = session.exec(
                select(Resource).where(Resource.site_id == found.id, Resource.slug == resource_slug)
            ).first()
            if resource is None:
                raise click.ClickException(f"no resource {resource_slug!r} at {site}")
            resource_id = resource.id
        try:
            body = DeviceCreate(site_id=found.id, slug=slug, resource_id=resource_id)
        except ValidationError as exc:
            raise click.ClickException(f"not a valid slug: {slug!r}") from exc
        issued = admin_devices.create_device(session=session, now=utcnow(), actor=None, body=body)
        session.commit()
        _show_password(session, issued)
        _after_change(ctx, session, apply_dir, pid_file, reload_command)


@devices.command("rotate")
@click.argument("site")
@click.argument("slug")
@_apply_option
@pass_context
def devices_rotate(
    ctx: _Context,
    site: str,
    slug: str,
    apply_dir: Path | None,
    pid_file: Path | None,
    reload_command: str | None,
) -> None:
    """Give a device a new MQTT password (shown only this once); the old one stops working."""
    from ..clock import utcnow
    from ..rules import admin_devices

    with _session(ctx) as session:
        device = admin_devices.find_device(session=session, site_slug=site, slug=slug)
        assert device.id is not None  # noqa: S101 - loaded
        issued = admin_devices.rotate_device(
            session=session, now=utcnow(), actor=None, device_id=device.id
        )
        session.commit()
        _show_password(session, issued)
        _after_change(ctx, session, apply_dir, pid_file, reload_command)


@devices.command("revoke")
@click.argument("site")
@click.argument("slug")
@_apply_option
@pass_context
def devices_revoke(
    ctx: _Context,
    site: str,
    slug: str,
    apply_dir: Path | None,
    pid_file: Path | None,
    reload_command: str | None,
) -> None:
    """Take a device's MQTT credentials away."""
    from ..clock import utcnow
    from ..rules import admin_devices

    with _session(ctx) as session:
        device = admin_devices.find_device(session=session, site_slug=site, slug=slug)
        assert device.id is not None  # noqa: S101 - loaded
        admin_devices.revoke_device(session=session, now=utcnow(), actor=None, device_id=device.id)
        session.commit()
        click.echo(f"revoked {site}.{slug}")
        _after_change(ctx, session, apply_dir, pid_file, reload_command)


@devices.command("list")
@pass_context
def devices_list(ctx: _Context) -> None:
    """Every device: site, slug, resource, online, revoked, last seen."""
    from ..rules import admin_devices

    with _session(ctx) as session:
        rows = admin_devices.managed_devices(session=session, actor=None)
        click.echo("site\tslug\tresource\tonline\trevoked\tlast_seen")
        for device, site, resource in rows:
            revoked = device.revoked_at.isoformat() if device.revoked_at else "-"
            if not device.password_hash and device.revoked_at is None:
                revoked = "no password"
            seen = device.last_seen.isoformat() if device.last_seen else "-"
            click.echo(
                f"{site.slug}\t{device.slug}\t{resource.slug if resource else '-'}\t"
                f"{'yes' if device.online else 'no'}\t{revoked}\t{seen}"
            )


def _show_password(session: Session, issued: Any) -> None:
    from ..rules import admin_devices

    username = admin_devices.username_of(session=session, device=issued.device)
    click.echo(f"user name: {username}")
    click.echo(f"password:  {issued.password}   (shown only this once)")


@cli.group()
def mqtt() -> None:
    """The MQTT broker's configuration."""


@mqtt.command("config")
@click.option(
    "--dir",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write passwd, acl and mosquitto.conf.",
)
@_reload_options
@pass_context
def mqtt_config(
    ctx: _Context, directory: Path, pid_file: Path | None, reload_command: str | None
) -> None:
    """Write Mosquitto's password file and ACL from the device registry, then reload it."""
    with _session(ctx) as session:
        _generate(ctx, session, directory, pid_file, reload_command)
