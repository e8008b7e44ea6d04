"""Everything behind `smartfab demo` besides the web app: an MQTT broker when none is
configured, the telemetry listener, the scheduler, and simulated devices for every
registered machine and room, so live status and usage show up within a minute."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from devices.behaviour import Visit
from devices.broker import EmbeddedBroker
from devices.simulator import DeviceSpec, Simulator, device_key
from scheduler.runner import Scheduler
from telemetry.fleet import card_pool, fleet_specs
from telemetry.listener import Listener
from telemetry.store import TelemetryStore
from telemetry.stores import store_from_settings

from . import broker_access
from .config import MqttSettings, Settings
from .rules.device_credentials import hash_password, mqtt_username, new_password

log = logging.getLogger(__name__)

# Machines cycle this many times faster than real ones, so runs start and end while one watches.
DEMO_SPEED = 10.0
DEMO_RATE_HZ = 1.0


class DemoStack:
    """start() brings the parts up in dependency order; stop() takes them down in reverse,
    letting each hand on what it holds first (devices say they stopped, the listener
    drains and acknowledges), the broker last.

    With `scripts` (visits by "site/device", from the day's plan) machines follow the
    plan and the scheduler's commands; without, they run on their own.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        workdir: Path = Path("instance") / "mqtt",
        broker_engine: str = "auto",
        speed: float = DEMO_SPEED,
        rate: float = DEMO_RATE_HZ,
        scripts: Mapping[str, Sequence[Visit]] | None = None,
        seed: int | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.workdir = workdir
        self.broker_engine = broker_engine
        self.speed, self.rate = speed, rate
        self.scripts, self.seed = scripts, seed
        self.broker: EmbeddedBroker | None = None
        self.store: TelemetryStore | None = None
        self.listener: Listener | None = None
        self.scheduler: Scheduler | None = None
        self.simulator: Simulator | None = None
        self._runner: threading.Thread | None = None

    def start(self) -> Settings:
        """Start every part; returns the settings in effect (the broker's address filled in)."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> Settings:
        settings = self.settings
        with Session(self.engine) as session:
            specs = fleet_specs(session=session, site=None)
            cards = card_pool(session=session)
        credentials: dict[str, tuple[str, str]] | None = None
        if not settings.mqtt.host:
            broker = EmbeddedBroker(
                self.workdir, port=settings.mqtt.port, engine=self.broker_engine
            )
            mqtt = settings.mqtt.model_copy(update={"host": broker.host, "port": broker.port})
            if broker.engine == "mosquitto":
                mqtt, credentials, broker.access_conf = _demo_accounts(
                    mqtt, specs, self.workdir / "access"
                )
            self.broker = broker.start()
            settings = settings.model_copy(update={"mqtt": mqtt})
            self.settings = settings
        self.store = store_from_settings(settings, self.engine)
        self.listener = Listener(settings, self.engine, self.store)
        self.listener.start()
        if not self.listener.wait_connected(15):
            raise RuntimeError(f"the listener could not reach {settings.mqtt.host}")
        self.scheduler = Scheduler(settings, self.engine)
        self.scheduler.start()
        if specs:
            self.simulator = Simulator(
                specs,
                host=settings.mqtt.host,
                port=settings.mqtt.port,
                root=settings.mqtt.topic_root,
                rate=self.rate,
                speed=self.speed,
                cards=cards,
                username=settings.mqtt.username,
                password=settings.mqtt.password,
                credentials=credentials,
                **settings.mqtt.tls_options(),
                scripts=self.scripts,
                seed=self.seed,
            )
            self.simulator.start()
            self._runner = threading.Thread(
                target=self.simulator.run, name="simulator", daemon=True
            )
            self._runner.start()
        return settings

    def stop(self, before_broker: Callable[[], None] | None = None) -> None:
        """Stop in reverse order, logging each part as it stops; `before_broker` runs just
        before the broker goes (the demo stops its web server there). One part failing
        to stop does not keep the others up."""
        if self.simulator is not None:
            simulator, self.simulator = self.simulator, None
            with _stopping("simulator"):
                self._quietly("simulator", simulator.stop)
                if self._runner is not None:
                    self._runner.join(10)
                    self._runner = None
                self._quietly("simulator", simulator.close)
        if self.scheduler is not None:
            scheduler, self.scheduler = self.scheduler, None
            with _stopping("scheduler"):
                self._quietly("scheduler", scheduler.stop)
        if self.listener is not None:
            listener, self.listener = self.listener, None
            with _stopping(
                "listener", lambda: f"drained and acknowledged, {listener.stats.summary()}"
            ):
                self._drain(listener)
                self._quietly("listener", listener.stop)
        if self.store is not None:
            store, self.store = self.store, None
            self._quietly("telemetry store", store.close)
        if before_broker is not None:
            self._quietly("web", before_broker)
        if self.broker is not None:
            broker, self.broker = self.broker, None
            with _stopping("broker"):
                self._quietly("broker", broker.stop)

    @staticmethod
    def _drain(listener: Listener, quiet_s: float = 0.5, limit_s: float = 10.0) -> None:
        """Wait until the devices' last words have reached the listener."""
        deadline = time.monotonic() + limit_s
        seen, since = listener.stats.received, time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            if listener.stats.received != seen:
                seen, since = listener.stats.received, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return

    @staticmethod
    def _quietly(part: str, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception:
            log.exception("stopping the %s failed", part)


def _demo_accounts(
    mqtt: MqttSettings, specs: Sequence[DeviceSpec], directory: Path
) -> tuple[MqttSettings, dict[str, tuple[str, str]], str]:
    """Lock the demo's own broker down as a real one: fresh passwords for this run (never
    stored) for the listener, the scheduler and each simulated device, and the password
    file and ACL generated for them. Returns the settings with the service accounts, the
    devices' (user, password) by device_key, and the broker's configuration lines."""
    mqtt = mqtt.model_copy(
        update={
            "username": "demo-listener",
            "password": new_password(),
            "scheduler_username": "demo-scheduler",
            "scheduler_password": new_password(),
        }
    )
    credentials = {
        device_key(spec): (mqtt_username(spec.site, spec.slug), new_password()) for spec in specs
    }
    files = broker_access.render(
        mqtt=mqtt,
        devices=[
            (spec.site, spec.slug, hash_password(credentials[device_key(spec)][1]))
            for spec in specs
        ],
    )
    broker_access.write_files(directory, files)
    return mqtt, credentials, broker_access.include_snippet(directory)


@contextmanager
def _stopping(part: str, detail: Callable[[], str] | None = None) -> Iterator[None]:
    """Log how long stopping a part took: `stopped <part> in 0.4 s[: detail]`."""
    began = time.monotonic()
    try:
        yield
    finally:
        extra = f": {detail()}" if detail is not None else ""
        log.info("stopped %s in %.1f s%s", part, time.monotonic() - began, extra)
