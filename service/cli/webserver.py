"""`smartfab web`: gunicorn with several worker processes, each serving on greenlets.

One Python process runs on one core at a time (the GIL), so the web server forks a
process per core. Each worker builds its own app (its own database pool) after the
fork. The in-process servers of `run` and `demo` use waitress instead: gunicorn
cannot run inside a thread of another program.

The workers are gevent's: a request is a greenlet, not one of a few threads, so an
operator's open floor (a server-sent event stream that waits between database reads)
parks at no cost beside the other requests. Blocking I/O is cooperative under gevent's
patches, psycopg's included (since 3.1.14); SQLite's calls are short and run in place.
`worker_connections` caps the requests a worker holds at once, streams included;
`threads` sizes only the in-process waitress server.

/metrics adds up the counts of all workers: before they fork, the server gives them a
private directory to keep their values in (PROMETHEUS_MULTIPROC_DIR; a fresh one, or
the one the environment names, emptied), and a worker that exits is marked dead there.
"""

from __future__ import annotations

import gc
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from ..config import Settings
from ..metrics import MULTIPROC_DIR


class WebServer(BaseApplication):
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        if not settings.web.secret_key:
            # Every worker must sign session cookies with the same key.
            web = settings.web.model_copy(update={"secret_key": secrets.token_hex(32)})
            settings = settings.model_copy(update={"web": web})
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from ..app import create_app

        return create_app(self.settings)


def _freeze_heap(_worker: Any) -> None:
    # Everything the app built at start-up lives as long as the worker: keep it out of
    # the garbage collector's full passes, which otherwise make most of the slow tail.
    gc.collect()
    gc.freeze()


def _metrics_directory() -> tuple[Path, bool]:
    """The workers' shared metrics directory, empty, named in the environment they inherit.

    Returns it and whether this server made it (and so removes it when it stops).
    """
    named = os.environ.get(MULTIPROC_DIR)
    if named:
        # Counts left by an earlier server would be added to this one's.
        directory = Path(named)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        return directory, False
    directory = Path(tempfile.mkdtemp(prefix="smartfab-metrics-"))
    os.environ[MULTIPROC_DIR] = str(directory)
    return directory, True


def _worker_exited(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    # Its counters stay in the sums; only live gauges of the dead process are dropped.
    multiprocess.mark_process_dead(worker.pid)


def serve(settings: Settings, host: str, port: int, workers: int, threads: int) -> None:
    """Serve until SIGTERM or Ctrl-C; `workers` 0 means one per CPU core.

    `threads` is kept for the command line's sake: gevent workers have no thread pool.
    """
    del threads
    directory, made = _metrics_directory()

    def _stopped(_server: Any) -> None:
        if made:
            shutil.rmtree(directory, ignore_errors=True)

    WebServer(
        settings,
        {
            "bind": f"{host}:{port}",
            "workers": workers or os.cpu_count() or 1,
            "worker_class": "gevent",
            "proc_name": "smartfab-web",
            "timeout": 60,
            "graceful_timeout": 20,
            "keepalive": 60,
            "worker_connections": 1000,
            "errorlog": "-",
            "loglevel": "warning",
            "post_worker_init": _freeze_heap,
            "child_exit": _worker_exited,
            "on_exit": _stopped,
        },
    ).run()
