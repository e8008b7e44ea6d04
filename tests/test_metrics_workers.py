"""/metrics of `smartfab web` counts the requests of every gunicorn worker, not only its own."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.live import serve

# The count is the same whatever the database; the server only needs one to start.
pytestmark = pytest.mark.sqlite_only

ROUTE = "meta.openapi_json"
BATCH = 40
# Enough rounds that the kernel hands connections to both workers, well before this.
MAX_ROUNDS = 10


def _served(base: str, route: str) -> float:
    """The request count /metrics reports for `route`, over all its methods and statuses."""
    # A new connection each time, so any worker may answer.
    text = requests.get(f"{base}/metrics", headers={"Connection": "close"}, timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "smartfab_http_requests"
        for sample in family.samples
        if sample.name == "smartfab_http_requests_total" and sample.labels["endpoint"] == route
    )


def _get(url: str) -> int:
    return requests.get(url, headers={"Connection": "close"}, timeout=10).status_code


def _workers_with_counts(directory: Path) -> set[str]:
    return {path.stem.rsplit("_", 1)[1] for path in directory.glob("counter_*.db")}


def test_metrics_add_up_the_requests_of_every_worker(db_url, tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    # Counts an earlier server left behind must not be added to this one's.
    (directory / "counter_99999.db").write_bytes(b"left over")
    with serve(db_url, workers=2, env={"PROMETHEUS_MULTIPROC_DIR": str(directory)}) as base:
        assert not (directory / "counter_99999.db").exists()
        sent = 0
        with ThreadPoolExecutor(max_workers=8) as pool:
            for _ in range(MAX_ROUNDS):
                urls = [f"{base}/api/v1/openapi.json"] * BATCH
                assert set(pool.map(_get, urls)) == {200}
                sent += BATCH
                if len(_workers_with_counts(directory)) >= 2:
                    break
        # Both workers answered some of the requests ...
        assert len(_workers_with_counts(directory)) == 2, sorted(directory.iterdir())
        # ... and whichever answers /metrics reports all of them.
        with ThreadPoolExecutor(max_workers=4) as pool:
            counts = list(pool.map(lambda _: _served(base, ROUTE), range(12)))
        assert counts == [sent] * 12


def test_a_server_without_a_named_directory_makes_and_removes_its_own(
    db_url, tmp_path, monkeypatch
):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    # The server's own temporary directory, where no other program makes one.
    with serve(db_url, workers=2, env={"TMPDIR": str(tmp_path)}) as base:
        made = list(tmp_path.glob("smartfab-metrics-*"))
        assert len(made) == 1
        for _ in range(6):
            assert _get(f"{base}/api/v1/openapi.json") == 200
        assert {_served(base, ROUTE) for _ in range(6)} == {6}
    assert not made[0].exists()
