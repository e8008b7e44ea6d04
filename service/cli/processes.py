"""The long-running processes: web, listener, scheduler, all-in-one and demo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..config import Settings, check_production
from . import _Context, cli, pass_context

if TYPE_CHECKING:
    from ..demo_data.day import DayPlan


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
@click.option("--seed", type=int, default=None, help="Seed of the day's plan and devices.")
@pass_context
def demo(ctx: _Context, host: str, port: int, seed: int | None) -> None:
    """Migrate, load the demo data and today's bookings, simulate the day and serve.

    Ctrl-C stops the devices, the scheduler, the listener (drained), the web server and
    the broker, in that order.
    """
    import logging
    import signal
    import threading
    import time

    from sqlmodel import Session

    from ..app import create_app
    from ..clock import utcnow
    from ..db import make_engine
    from ..demo_data import DEMO_PASSWORD, seed_demo
    from ..demo_data.day import DEMO_SEED, seed_day
    from ..demo_stack import DemoStack
    from ..migrate import upgrade

    log = logging.getLogger("service.demo")
    settings = ctx.settings
    seed = DEMO_SEED if seed is None else seed
    engine = make_engine(settings.database.url)
    upgrade(engine)
    with Session(engine) as session:
        click.echo(seed_demo(session=session))
        plan = seed_day(session=session, now=utcnow(), seed=seed)
        session.commit()
    click.echo(_day_summary(plan))
    # From here Ctrl-C only asks to stop: a start under way finishes, then all stop in order.
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    stack = DemoStack(settings, engine, scripts=plan.scripts(), seed=seed)
    live = stack.start()
    try:
        web = _background_server(
            create_app(live, engine, store=stack.store), host, port, settings.web.threads
        )
    except BaseException:
        stack.stop()
        raise
    click.echo(f"serving on http://{host}:{port}")
    click.echo(
        f"MQTT on {live.mqtt.host}:{live.mqtt.port}: listener, scheduler and simulated devices "
        f"running; live status at http://{host}:{port}/api/v1/status (operators)"
    )
    click.echo(
        f"log in as maker@smartfab.example / {DEMO_PASSWORD} "
        f"(operator@…, admin@… likewise); API docs at http://{host}:{port}/api/v1/docs; "
        "Ctrl-C stops"
    )
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        began = time.monotonic()
        log.info("stopping: simulator, scheduler, listener, web, broker")
        stack.stop(before_broker=web.stop)
        engine.dispose()
        log.info("demo stopped in %.1f s", time.monotonic() - began)
    _exit_now()


def _exit_now() -> None:
    """Exit at once: everything is stopped and flushed, and tearing down the interpreter's
    few hundred modules takes seconds on a busy machine, for nothing."""
    import logging
    import os
    import sys

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _day_summary(plan: DayPlan) -> str:
    bookings = plan.bookings()
    if not plan.visits:
        return "today: no site is open for the rest of the day; the machines stay off"
    sites = sorted({v.machine.site for v in bookings})
    return (
        f"today: {len(bookings)} bookings at {', '.join(sites)}; "
        f"{plan.count('no_show')} no-show, {plan.count('fault')} fault, "
        f"{plan.count('overstay')} overstay, {plan.count('walk_in')} walk-in, "
        f"{plan.count('unauthorised')} unauthorised use"
    )


class _BackgroundServer:
    """Waitress on a thread of its own, so the demo decides when the web stops."""

    def __init__(self, server: Any) -> None:
        import threading

        self.server = server
        self.thread = threading.Thread(target=server.run, name="web", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        import logging
        import time

        from waitress import wasyncore

        began = time.monotonic()
        server = self.server
        server.task_dispatcher.shutdown()
        # Closed from the server's own loop (woken by its trigger), which then returns.
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        self.thread.join(2)
        took = time.monotonic() - began
        logging.getLogger("service.demo").info("stopped web in %.1f s", took)


def _background_server(app: Any, host: str, port: int, threads: int) -> _BackgroundServer:
    from waitress import create_server

    server = create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="smartfab",
        connection_limit=1000,
        channel_timeout=60,
    )
    return _BackgroundServer(server)
