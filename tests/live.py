"""A real `smartfab web` process serving a test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from tests.pg import free_port


@contextmanager
def serve(
    db_url: str, threads: int = 8, workers: int | None = None, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Start `smartfab web` on a free port (`workers` processes if given); yield its URL."""
    port = free_port()
    env = {
        **os.environ,
        "SMARTFAB_DATABASE__URL": db_url,
        "SMARTFAB_WEB__THREADS": str(threads),
        # A server on PostgreSQL counts as production: it needs a key of 32+ characters.
        "SMARTFAB_WEB__SECRET_KEY": "test-" + "k" * 40,
        **(env or {}),
    }
    command = [sys.executable, "-m", "service.cli", "web", "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    if workers is not None:
        command += ["--workers", str(workers)]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass  # not listening yet, or its workers still loading the app
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                raise RuntimeError(f"smartfab web did not start:\n{output}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
