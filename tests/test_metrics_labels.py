"""/metrics labels only known methods and routes: no request can add label values of its own."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.sqlite_only


def metrics(client) -> str:
    return client.get("/metrics").get_data(as_text=True)


def test_known_routes_and_methods_are_labelled(client, world):
    client.get("/api/v1/sites", headers=world.headers("maker"))
    assert 'endpoint="catalogue.list_sites",method="GET",status="200"' in metrics(client)


def test_made_up_methods_are_counted_as_other(client, world):
    for verb in ("BREW", "XYZZY-1", "PROPFIND"):
        client.open("/api/v1/sites", method=verb)
    body = metrics(client)
    assert 'method="other"' in body
    for verb in ("BREW", "XYZZY-1", "PROPFIND"):
        assert verb not in body


def test_unmatched_paths_share_one_label(client, world):
    for n in range(5):
        client.get(f"/no/such/page/{n}")
    body = metrics(client)
    assert 'endpoint="unmatched",method="GET",status="404"' in body
    assert "/no/such/page" not in body
    lines = [line for line in body.splitlines() if line.startswith("smartfab_http_requests_total")]
    assert sum('endpoint="unmatched"' in line for line in lines) == 1
