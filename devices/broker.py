"""An MQTT broker for the demo, when none is configured.

Mosquitto when it is installed (the broker smartfab runs against elsewhere);
otherwise rumqttd, which the `iotcore` wheel ships, so a machine with nothing but
pip still gets a broker that speaks MQTT v5 with persistent sessions.
"""

from __future__ import annotations

import getpass
import logging
import random
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MOSQUITTO_PATHS = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")
MAX_PAYLOAD = 256 * 1024


def port_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now (TIME_WAIT leftovers do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


# Below Linux's ephemeral range (32768-60999): a port the kernel hands out there may be taken
# by any outgoing connection before the server that asked for it has bound it.
QUIET_PORTS = (20000, 32767)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, outside the range outgoing connections draw from."""
    for _ in range(100):
        port = random.randint(*QUIET_PORTS)  # noqa: S311 - not a secret
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        chosen: int = probe.getsockname()[1]
    return chosen


def mosquitto_binary() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((p for p in MOSQUITTO_PATHS if Path(p).is_file()), None)


class EmbeddedBroker:
    """start() returns once the broker accepts connections on host:port; stop() ends it.

    Anonymous clients are let in unless `access_conf` is set before start() (Mosquitto
    only): the configuration lines that turn them away and name a password file and ACL.
    """

    def __init__(
        self, workdir: Path, *, host: str = "127.0.0.1", port: int = 1883, engine: str = "auto"
    ) -> None:
        if engine not in ("auto", "mosquitto", "rumqttd"):
            raise ValueError(f"unknown broker engine {engine!r}")
        self.workdir = Path(workdir)
        self.host = host
        # The configured port when it is free, else any free one.
        self.port = port if port and port_free(host, port) else free_port(host)
        mosquitto = mosquitto_binary()
        if engine == "mosquitto" and mosquitto is None:
            raise RuntimeError("mosquitto is not installed")
        self.engine = "mosquitto" if engine != "rumqttd" and mosquitto else "rumqttd"
        self._mosquitto = mosquitto
        self._process: subprocess.Popen[bytes] | None = None
        self._rumqttd: Any = None
        self.access_conf = ""

    def start(self, timeout: float = 10.0) -> EmbeddedBroker:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.engine == "mosquitto":
            self._start_mosquitto(timeout)
        else:
            self._start_rumqttd(timeout)
        log.info("embedded MQTT broker (%s) on %s:%d", self.engine, self.host, self.port)
        return self

    def _start_mosquitto(self, timeout: float) -> None:
        conf = self.workdir / "mosquitto.conf"
        logfile = self.workdir / "mosquitto.log"
        # Persistence keeps the listener's queued messages across a demo restart.
        conf.write_text(
            f"listener {self.port} {self.host}\n"
            f"{self.access_conf or 'allow_anonymous true'}\n"
            f"user {getpass.getuser()}\n"
            "persistence true\n"
            f"persistence_location {self.workdir}/\n"
            "max_queued_messages 100000\n"
            f"message_size_limit {MAX_PAYLOAD}\n"
            f"log_dest file {logfile}\n"
            "log_type error\nlog_type warning\n"
        )
        assert self._mosquitto is not None  # noqa: S101 - chosen in __init__
        self._process = subprocess.Popen(  # noqa: S603 - a fixed binary and our own config
            [self._mosquitto, "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own process group: Ctrl-C in the terminal reaches us, not the broker,
            # which must outlive the clients that hand on their last messages through it.
            process_group=0,
        )
        self._wait_listening(timeout, logfile)

    def _start_rumqttd(self, timeout: float) -> None:
        from iotcore import Broker

        conf = self.workdir / "rumqttd.toml"
        conf.write_text(
            "id = 0\n\n[router]\nid = 0\nmax_connections = 10010\n"
            "max_outgoing_packet_count = 200\nmax_segment_size = 104857600\n"
            "max_segment_count = 10\n\n"
            '[v5.1]\nname = "v5-1"\n'
            f'listen = "{self.host}:{self.port}"\n'
            "next_connection_delay_ms = 1\n"
            "[v5.1.connections]\nconnection_timeout_ms = 60000\n"
            f"max_payload_size = {MAX_PAYLOAD}\nmax_inflight_count = 100\n"
        )
        self._rumqttd = Broker(config_path=str(conf)).start(timeout=timeout)

    def _wait_listening(self, timeout: float, logfile: Path) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                process = self._process
                if process is None or process.poll() is not None or time.monotonic() > deadline:
                    text = logfile.read_text(errors="replace") if logfile.exists() else ""
                    self.stop()
                    raise RuntimeError(f"the MQTT broker did not start:\n{text}") from None
                time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the broker (Mosquitto saves its sessions first). Safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        rumqttd, self._rumqttd = self._rumqttd, None
        if rumqttd is not None:
            rumqttd.stop()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
