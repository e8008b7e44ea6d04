"""The long-running processes: web, listener, scheduler, all-in-one and demo."""

from __future__ import annotations

from typing import Any

import click

from ..config import Settings, check_production
from . import _Context, cli, pass_context


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
@click.option("--workers", type=int, default=None, help="Processes. Default: [web] workers.")
@click.option("--threads", type=int, default=None, help="Per process. Default: [web] threads.")
@pass_context
def web(
    ctx: _Context, host: str | None, port: int | None, workers: int | None, threads: int | None
) -> None:
    """Serve the web app and API with the production WSGI server (gunicorn)."""
    from .webserver import serve

    settings = ctx.settings
    check_production(settings)
    host, port = host or settings.web.host, port or settings.web.port
    click.echo(f"serving on http://{host}:{port}")
    serve(
        settings,
        host,
        port,
        workers or settings.web.workers,
        threads or settings.web.threads,
    )


@cli.command()
@pass_context
def listen(ctx: _Context) -> None:
    """Ingest device messages from MQTT until SIGTERM or Ctrl-C (then drain and flush)."""
    from telemetry.listener import Listener
    from telemetry.stores import store_from_settings

    from ..db import make_engine

    settings = ctx.settings
    _need_broker(settings)
    engine = make_engine(settings.database.url)
    store = store_from_settings(settings, engine)
    listener = Listener(settings, engine, store)
    listener.start()
    click.echo(
        f"listening on {settings.mqtt.host}:{settings.mqtt.port} as {settings.mqtt.client_id}"
    )
    try:
        _until_stopped()
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

    from ..db import make_engine

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

    from ..app import create_app
    from ..db import make_engine

    settings = ctx.settings
    check_production(settings)
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
            create_app(settings, engine, store=store),  # the listener's store: one client
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

    from ..app import create_app
    from ..db import make_engine
    from ..demo_data import DEMO_PASSWORD, seed_demo
    from ..demo_stack import DemoStack
    from ..migrate import upgrade

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
        _serve(create_app(live, engine, store=stack.store), host, port, settings.web.threads)
    except KeyboardInterrupt:
        pass  # waitress usually takes Ctrl-C itself and returns
    finally:
        click.echo("stopping: devices, scheduler, listener, broker")
        stack.stop()
        engine.dispose()
