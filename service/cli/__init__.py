"""The `smartfab` command; one module per group of commands."""

from __future__ import annotations

import logging
import sys

import click

from ..config import ConfigError, Settings, load_settings


class _Context:
    def __init__(self) -> None:
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings()
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from exc
        return self._settings


pass_context = click.make_pass_decorator(_Context, ensure=True)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def cli(verbose: bool) -> None:
    """smartfab: bookings, machine access and billing for a shared smart factory."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # APScheduler logs every run of every job at INFO: a line per second or two.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


# The command modules register themselves on `cli`.
from . import admin, devices, processes, simulate  # noqa: E402, F401
