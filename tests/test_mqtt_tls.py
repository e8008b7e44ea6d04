"""MQTT over TLS: a broker with a certificate from a CA made here, which asks every client
for a certificate of the same CA. The telemetry listener (`smartfab listen`), the scheduler
and the simulated devices all connect through it; strangers and wrong host names do not."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from devices.client import make_client
from devices.simulator import DeviceSpec, Simulator
from scheduler.runner import Scheduler
from service.config import ConfigError, MqttSettings, Settings, load_settings
from service.models import CommandState, DeviceCommand, TelemetryPoint
from tests.conftest import CURRENT_TIME
from tests.machines import Clock, acked, add_device, reserve
from tests.pki import CertificateAuthority, Issued
from tests.services import Mosquitto, free_port

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# A broker refusing a client's certificate closes the connection after the handshake: paho
# sees it as a lost connection, or as an SSL error when the alert meets its CONNECT.
REFUSED = ("lost:", "ssl:")


@dataclass(frozen=True)
class Pki:
    ca: CertificateAuthority
    broker: Issued
    listener: Issued
    scheduler: Issued
    device: Issued
    stranger: Issued  # signed by another CA


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca = CertificateAuthority(folder, "smartfab")
    other = CertificateAuthority(folder, "other")
    return Pki(
        ca=ca,
        broker=ca.issue("broker", server_ip=HOST),
        listener=ca.issue("smartfab-listener"),
        scheduler=ca.issue("smartfab-scheduler"),
        device=ca.issue("device"),
        stranger=other.issue("stranger"),
    )


@dataclass(frozen=True)
class TlsBroker:
    port: int
    log: Path

    def logged(self, text: str) -> bool:
        return _until(lambda: text in self.log.read_text(errors="replace"), timeout=5)


@pytest.fixture
def tls_broker(tmp_path: Path, pki: Pki) -> Iterator[TlsBroker]:
    """A broker whose second listener takes only TLS clients with a certificate of our CA."""
    root = tmp_path / "mosquitto"
    root.mkdir()
    port = free_port()
    conf = (
        f"listener {port} {HOST}\n"
        f"cafile {pki.ca.ca_file}\n"
        f"certfile {pki.broker.cert_file}\n"
        f"keyfile {pki.broker.key_file}\n"
        "require_certificate true\n"
        "use_identity_as_username true\n"
    )
    with Mosquitto(root, extra_conf=conf) as broker:
        yield TlsBroker(port, broker.log)


@pytest.fixture
def tls_port(tls_broker: TlsBroker) -> int:
    return tls_broker.port


def _tls(pki: Pki, issued: Issued) -> dict[str, Any]:
    return {
        "tls": True,
        "ca_file": pki.ca.ca_file,
        "cert_file": issued.cert_file,
        "key_file": issued.key_file,
    }


def _settings(db_url: str, port: int, mqtt_tls: dict[str, Any]) -> Settings:
    overrides = {"database": {"url": db_url}, "mqtt": {"host": HOST, "port": port, **mqtt_tls}}
    return load_settings(path=ROOT / "config.toml", environ={}, overrides=overrides)


def _until(condition: Any, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@dataclass
class Running:
    simulator: Simulator
    thread: threading.Thread


@pytest.fixture
def simulate(pki: Pki, tls_port: int) -> Iterator[Any]:
    """simulate(spec): one simulated device connected over TLS with the device certificate."""
    running: list[Running] = []

    def start(spec: DeviceSpec) -> Simulator:
        simulator = Simulator(
            [spec], host=HOST, port=tls_port, rate=20, speed=50, **_tls(pki, pki.device)
        )
        simulator.start()
        thread = threading.Thread(target=simulator.run, kwargs={"duration": 20})
        thread.start()
        running.append(Running(simulator, thread))
        return simulator

    yield start
    for each in running:
        each.simulator.stop()
        each.thread.join(10)
        each.simulator.close()


# -- the three clients over TLS ----------------------------------------------------------


def test_listen_stores_what_a_simulated_device_sends_over_tls(
    db_url: str,
    engine: Engine,
    session: Session,
    world: Any,
    pki: Pki,
    tls_port: int,
    simulate: Any,
) -> None:
    laser = world.resources["laser"]
    device = add_device(session, laser)
    env = {
        **os.environ,
        "SMARTFAB_DATABASE__URL": db_url,
        "SMARTFAB_INFLUXDB__URL": "",
        "SMARTFAB_MQTT__HOST": HOST,
        "SMARTFAB_MQTT__PORT": str(tls_port),
        **{f"SMARTFAB_MQTT__{k.upper()}": str(v) for k, v in _tls(pki, pki.listener).items()},
    }
    listen = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "listen"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        simulate(DeviceSpec("seongsu", device.slug, "machine", laser.category))

        def stored() -> int:
            with Session(engine) as fresh:
                count = select(func.count()).where(
                    col(TelemetryPoint.site) == "seongsu",
                    col(TelemetryPoint.resource) == laser.slug,
                )
                return int(fresh.exec(count).one())

        assert _until(lambda: stored() > 0 or listen.poll() is not None), "nothing stored"
        assert listen.poll() is None, "smartfab listen exited"
    finally:
        listen.send_signal(signal.SIGTERM)
        output, _ = listen.communicate(timeout=20)
    assert b"stopped:" in output, output.decode(errors="replace")


def test_the_schedulers_command_reaches_a_device_over_tls_and_is_acknowledged(
    db_url: str, engine: Engine, session: Session, world: Any, pki: Pki, tls_port: int, simulate
) -> None:
    laser = world.resources["laser"]
    device = add_device(session, laser)
    reserve(session, laser, world.id("maker"), CURRENT_TIME)
    simulator = simulate(DeviceSpec("seongsu", device.slug, "machine", laser.category))
    settings = _settings(db_url, tls_port, _tls(pki, pki.scheduler))
    scheduler = Scheduler(settings, engine, clock=Clock(CURRENT_TIME))
    scheduler.link.start()
    try:
        assert scheduler.link.connected
        assert scheduler.tick(CURRENT_TIME)
        acked(engine, timeout=15)
    finally:
        scheduler.link.stop()
    with Session(engine) as fresh:
        (command,) = fresh.exec(select(DeviceCommand)).all()
    assert (command.action, command.state) == ("enable", CommandState.acked)
    assert simulator.devices[f"seongsu/{device.slug}"].model.enabled


# -- who is refused ------------------------------------------------------------------------


# paho leaves the socket of a failed TLS handshake (or of a connection refused as it sends
# CONNECT) to the garbage collector, which warns.
_unclosed_after_failed_handshake = pytest.mark.filterwarnings(
    "ignore:unclosed <ssl.SSLSocket:ResourceWarning"
)


def _files(pki: Pki, issued: Issued) -> dict[str, str]:
    return {k: v for k, v in _tls(pki, issued).items() if k != "tls"}


def _connect(port: int, host: str = HOST, **tls: str) -> str:
    """Connect one client with `tls` options; "connected", or why it was refused."""
    client = make_client("probe", tls=True, **tls)
    answers: list[str] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: answers.append(str(reason))
    try:
        client.connect(host, port, keepalive=5)
        deadline = time.monotonic() + 10
        while not answers and time.monotonic() < deadline:
            code = client.loop(timeout=0.1)
            if code != mqtt.MQTT_ERR_SUCCESS:
                return f"lost: {mqtt.error_string(code)}"
    except ssl.SSLError as exc:
        return f"ssl: {exc}"
    except ConnectionError as exc:
        return f"lost: {exc}"
    finally:
        client.disconnect()
    return "connected" if answers == ["Success"] else f"answered {answers}"


def test_a_client_with_a_certificate_of_our_ca_connects(pki: Pki, tls_port: int) -> None:
    assert _connect(tls_port, **_files(pki, pki.device)) == "connected"


@_unclosed_after_failed_handshake
def test_a_client_that_trusts_only_the_system_cas_refuses_the_broker(
    pki: Pki, tls_port: int
) -> None:
    files = {**_files(pki, pki.device), "ca_file": ""}
    outcome = _connect(tls_port, **files)
    assert outcome.startswith("ssl:") and "certificate verify failed" in outcome, outcome


@_unclosed_after_failed_handshake
def test_the_broker_refuses_a_client_certificate_of_another_ca(
    pki: Pki, tls_broker: TlsBroker
) -> None:
    outcome = _connect(tls_broker.port, **_files(pki, pki.stranger))
    assert outcome.startswith(REFUSED), outcome
    assert tls_broker.logged("certificate verify failed")


@_unclosed_after_failed_handshake
def test_the_broker_refuses_a_client_without_a_certificate(pki: Pki, tls_broker: TlsBroker) -> None:
    outcome = _connect(tls_broker.port, ca_file=pki.ca.ca_file)
    assert outcome.startswith(REFUSED), outcome
    assert tls_broker.logged("peer did not return a certificate")


@_unclosed_after_failed_handshake
def test_a_broker_reached_by_a_name_its_certificate_does_not_hold_fails_verification(
    pki: Pki, tls_port: int
) -> None:
    # The certificate names 127.0.0.1 only.
    outcome = _connect(tls_port, host="localhost", **_files(pki, pki.device))
    assert outcome.startswith("ssl:") and "mismatch" in outcome, outcome


# -- settings ------------------------------------------------------------------------------


def _mqtt(**values: Any) -> MqttSettings:
    return load_settings(path=ROOT / "config.toml", environ={}, overrides={"mqtt": values}).mqtt


def test_tls_settings_become_the_client_options(pki: Pki) -> None:
    cfg = _mqtt(**_tls(pki, pki.listener))
    assert cfg.tls_options() == _tls(pki, pki.listener)
    assert _mqtt().tls_options() == {"tls": False, "ca_file": "", "cert_file": "", "key_file": ""}


def test_a_client_certificate_without_its_key_is_refused(pki: Pki) -> None:
    with pytest.raises(ConfigError, match=r"mqtt.cert_file .* and mqtt.key_file .* go together"):
        _mqtt(tls=True, cert_file=pki.listener.cert_file)


def test_a_missing_ca_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"mqtt.ca_file \(SMARTFAB_MQTT__CA_FILE\): no file .*nowhere.pem"
    ):
        _mqtt(tls=True, ca_file=str(tmp_path / "nowhere.pem"))


def test_a_key_that_is_not_the_certificates_is_refused(pki: Pki) -> None:
    with pytest.raises(ConfigError, match="mqtt.cert_file .* and mqtt.key_file .* do not load"):
        _mqtt(tls=True, cert_file=pki.listener.cert_file, key_file=pki.device.key_file)


def test_tls_files_without_tls_are_refused_rather_than_ignored(pki: Pki) -> None:
    with pytest.raises(
        ConfigError, match=r"mqtt.ca_file \(SMARTFAB_MQTT__CA_FILE\) given but mqtt.tls is false"
    ):
        _mqtt(ca_file=pki.ca.ca_file)
