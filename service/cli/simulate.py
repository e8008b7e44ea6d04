"""The device simulator."""

from __future__ import annotations

from typing import Any

import click

from ..config import Settings
from . import _Context, cli, pass_context


@cli.command()
@click.option("--site", required=True, help="Site slug the devices publish under.")
@click.option(
    "--devices",
    "count",
    type=click.IntRange(min=1),
    default=None,
    help="How many devices (default: all the site's registered devices, else 10).",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.001),
    default=1.0,
    show_default=True,
    help="Telemetry reports per second per device.",
)
@click.option("--host", default=None, help="Broker host. Default: [mqtt] host.")
@click.option("--port", type=int, default=None, help="Broker port. Default: [mqtt] port.")
@click.option(
    "--duration",
    type=click.FloatRange(min=0),
    default=None,
    help="Stop after this many seconds. Default: until Ctrl-C.",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0.01),
    default=1.0,
    show_default=True,
    help="Run duty cycles this many times faster than real machines.",
)
@click.option("--generate", is_flag=True, help="Invent devices instead of reading the database.")
@click.option("--seed", type=int, default=None, help="Random seed, for a repeatable run.")
@pass_context
def simulate(
    ctx: _Context,
    site: str,
    count: int | None,
    rate: float,
    host: str | None,
    port: int | None,
    duration: float | None,
    speed: float,
    generate: bool,
    seed: int | None,
) -> None:
    """Simulate a site's machines and rooms publishing over MQTT."""
    import signal

    from devices.simulator import Simulator, generated_specs

    settings = ctx.settings
    broker = host or settings.mqtt.host
    if not broker:
        raise click.ClickException("no broker: pass --host or set [mqtt] host")
    specs, cards = ([], []) if generate else _fleet_from_db(settings, site, count)
    if not specs:
        specs = generated_specs(site, count or 10)
        click.echo(f"simulating {len(specs)} invented devices (not registered in the database)")
    simulator = Simulator(
        specs,
        host=broker,
        port=port or settings.mqtt.port,
        root=settings.mqtt.topic_root,
        rate=rate,
        speed=speed,
        cards=cards,
        seed=seed,
        username=settings.mqtt.username,
        password=settings.mqtt.password,
        **settings.mqtt.tls_options(),
    )
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: simulator.stop())
    try:
        simulator.start()
    except ConnectionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"simulating {len(specs)} devices of {site} at {rate:g} Hz; Ctrl-C stops")
    try:
        published = simulator.run(duration)
    finally:
        simulator.close()
    click.echo(f"stopped after {published} messages")


def _fleet_from_db(settings: Settings, site: str, count: int | None) -> tuple[list[Any], list[str]]:
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from telemetry.fleet import card_pool, fleet_specs

    from ..db import make_engine

    engine = make_engine(settings.database.url)
    try:
        with Session(engine) as session:
            return fleet_specs(session=session, site=site, limit=count), card_pool(session=session)
    except SQLAlchemyError as exc:
        click.echo(f"no devices from the database ({type(exc).__name__})", err=True)
        return [], []
    finally:
        engine.dispose()
