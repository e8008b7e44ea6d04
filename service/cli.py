"""The `smartfab` command."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from .config import ConfigError, Settings, load_settings


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


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_context
def db_upgrade(ctx: _Context, revision: str) -> None:
    """Apply the migrations."""
    from .db import make_engine
    from .migrate import upgrade

    engine = make_engine(ctx.settings.database.url)
    upgrade(engine, revision)
    click.echo(f"database at {revision}: {engine.url.render_as_string(hide_password=True)}")


@cli.group()
def users() -> None:
    """Accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True)
@click.option("--name", default="")
@click.option(
    "--role", type=click.Choice(["maker", "operator", "admin"]), default="maker", show_default=True
)
@click.option("--site", "site_slug", default=None, help="Site slug (operators).")
@pass_context
def users_create(
    ctx: _Context, email: str, password: str, name: str, role: str, site_slug: str | None
) -> None:
    """Create an account with a role."""
    from sqlmodel import Session

    from .db import make_engine
    from .errors import DomainError
    from .models import RoleName
    from .rules.accounts import create_account

    with Session(make_engine(ctx.settings.database.url)) as session:
        try:
            account = create_account(
                session=session,
                email=email,
                password=password,
                name=name or email.split("@")[0],
                role=RoleName(role),
                site_slug=site_slug,
            )
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        session.commit()
        click.echo(f"created {role} {account.email} (id {account.id})")


@cli.command()
@click.option("--demo", is_flag=True, required=True, help="Load the Seongsu demo data set.")
@pass_context
def seed(ctx: _Context, demo: bool) -> None:
    """Load demo data (sites, machines, rooms, people); safe to run twice."""
    from sqlmodel import Session

    from .db import make_engine
    from .demo_data import seed_demo

    with Session(make_engine(ctx.settings.database.url)) as session:
        summary = seed_demo(session=session)
    click.echo(summary)


def _serve(app: Any, host: str, port: int, threads: int) -> None:
    from waitress import serve

    click.echo(f"serving on http://{host}:{port}")
    serve(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="smartfab",
        connection_limit=1000,
        channel_timeout=60,
    )


@cli.command()
@click.option("--host", default=None, help="Default: [web] host.")
@click.option("--port", type=int, default=None, help="Default: [web] port.")
@click.option("--threads", type=int, default=None, help="Default: [web] threads.")
@pass_context
def web(ctx: _Context, host: str | None, port: int | None, threads: int | None) -> None:
    """Serve the web app and API with the production WSGI server (waitress)."""
    from .app import create_app

    settings = ctx.settings
    _serve(
        create_app(settings),
        host or settings.web.host,
        port or settings.web.port,
        threads or settings.web.threads,
    )


@cli.command()
@pass_context
def listen(ctx: _Context) -> None:
    """Ingest device messages from MQTT until SIGTERM or Ctrl-C (then drain and flush)."""
    import signal
    import threading

    from telemetry.listener import Listener
    from telemetry.stores import store_from_settings

    from .db import make_engine

    settings = ctx.settings
    if not settings.mqtt.host:
        raise click.ClickException("no broker: set [mqtt] host (SMARTFAB_MQTT__HOST)")
    engine = make_engine(settings.database.url)
    store = store_from_settings(settings, engine)
    listener = Listener(settings, engine, store)
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    listener.start()
    click.echo(
        f"listening on {settings.mqtt.host}:{settings.mqtt.port} as {settings.mqtt.client_id}"
    )
    try:
        while not done.wait(1.0):
            pass
    finally:
        listener.stop()
        store.close()
        engine.dispose()
    click.echo(f"stopped: {listener.stats.summary()}")


def _until_stopped() -> None:
    """Block until SIGTERM or Ctrl-C."""
    import signal
    import threading

    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    while not done.wait(1.0):
        pass


def _need_broker(settings: Settings) -> None:
    if not settings.mqtt.host:
        raise click.ClickException("no broker: set [mqtt] host (SMARTFAB_MQTT__HOST)")


@cli.command()
@pass_context
def schedule(ctx: _Context) -> None:
    """Enforce time slots, answer badges and send notifications until SIGTERM or Ctrl-C."""
    from scheduler.runner import Scheduler

    from .db import make_engine

    settings = ctx.settings
    _need_broker(settings)
    engine = make_engine(settings.database.url)
    scheduler = Scheduler(settings, engine)
    scheduler.start()
    click.echo(f"scheduling as {scheduler.holder} every {settings.scheduler.tick_s} s")
    try:
        _until_stopped()
    finally:
        scheduler.stop()
        engine.dispose()


@cli.command()
@click.option("--host", default=None, help="Default: [web] host.")
@click.option("--port", type=int, default=None, help="Default: [web] port.")
@pass_context
def run(ctx: _Context, host: str | None, port: int | None) -> None:
    """Web, telemetry listener and scheduler in one process, on the configured services."""
    import signal

    from scheduler.runner import Scheduler
    from telemetry.listener import Listener
    from telemetry.stores import store_from_settings

    from .app import create_app
    from .db import make_engine

    settings = ctx.settings
    _need_broker(settings)
    engine = make_engine(settings.database.url)
    store = store_from_settings(settings, engine)
    listener = Listener(settings, engine, store)
    scheduler = Scheduler(settings, engine)

    def _interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)
    listener.start()
    scheduler.start()
    try:
        _serve(
            create_app(settings, engine),
            host or settings.web.host,
            port or settings.web.port,
            settings.web.threads,
        )
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.stop()
        listener.stop()
        store.close()
        engine.dispose()


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@pass_context
def demo(ctx: _Context, host: str, port: int) -> None:
    """Migrate, load the demo data, simulate its devices and serve, on embedded defaults."""
    import signal

    from sqlmodel import Session

    from .app import create_app
    from .db import make_engine
    from .demo_data import DEMO_PASSWORD, seed_demo
    from .demo_stack import DemoStack
    from .migrate import upgrade

    settings = ctx.settings
    engine = make_engine(settings.database.url)
    upgrade(engine)
    with Session(engine) as session:
        click.echo(seed_demo(session=session))
    stack = DemoStack(settings, engine)
    live = stack.start()
    click.echo(
        f"MQTT on {live.mqtt.host}:{live.mqtt.port}: listener, scheduler and simulated devices "
        f"running; live status at http://{host}:{port}/api/v1/status (operators)"
    )
    click.echo(
        f"log in as maker@smartfab.example / {DEMO_PASSWORD} "
        f"(operator@…, admin@… likewise); API docs at http://{host}:{port}/api/v1/docs"
    )

    def _interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        _serve(create_app(live, engine), host, port, settings.web.threads)
    except KeyboardInterrupt:
        pass  # waitress usually takes Ctrl-C itself and returns
    finally:
        click.echo("stopping: devices, scheduler, listener, broker")
        stack.stop()
        engine.dispose()


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
        tls=settings.mqtt.tls,
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

    from .db import make_engine

    engine = make_engine(settings.database.url)
    try:
        with Session(engine) as session:
            return fleet_specs(session=session, site=site, limit=count), card_pool(session=session)
    except SQLAlchemyError as exc:
        click.echo(f"no devices from the database ({type(exc).__name__})", err=True)
        return [], []
    finally:
        engine.dispose()


def main() -> None:
    try:
        cli(standalone_mode=True)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
