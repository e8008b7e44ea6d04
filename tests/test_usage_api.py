"""GET /api/v1/usage: usage sessions from telemetry, seen by role."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.models import Device, UsageSession
from tests.conftest import CURRENT_TIME


@pytest.fixture
def runs(session, world) -> dict[str, int]:
    """One run of the Seongsu laser by `maker`, one of the Mullae lathe by `other`."""
    found = {}
    for name, resource, who in (("laser", "laser", "maker"), ("lathe", "lathe", "other")):
        site = world.sites["seongsu" if resource == "laser" else "mullae"]
        device = Device(site_id=site.id, resource_id=world.id(resource), slug=f"{resource}-dev")
        session.add(device)
        session.flush()
        run = UsageSession(
            resource_id=world.id(resource),
            device_id=device.id,
            account_id=world.id(who),
            start_at=CURRENT_TIME,
            end_at=CURRENT_TIME + timedelta(minutes=40),
            run_seconds=2400,
            energy_wh=1500.0,
            last_sample_at=CURRENT_TIME,
        )
        session.add(run)
        session.flush()
        found[name] = run.id
    session.commit()
    return found


@pytest.mark.parametrize(
    "actor,expected",
    [
        ("maker", {"laser"}),
        ("other", {"lathe"}),
        ("operator", {"laser"}),
        ("mullae_operator", {"lathe"}),
        ("admin", {"laser", "lathe"}),
    ],
)
def test_usage_lists_what_the_role_may_see(client, world, runs, actor, expected):
    answer = client.get("/api/v1/usage", headers=world.headers(actor))
    assert answer.status_code == 200
    assert {r["id"] for r in answer.json} == {runs[n] for n in expected}


def test_usage_reports_run_time_and_energy_within_the_range(client, world, runs):
    answer = client.get(
        "/api/v1/usage",
        headers=world.headers("admin"),
        query_string={
            "account": world.id("maker"),
            "from": "2026-03-02T00:00:00Z",
            "to": "2026-03-03T00:00:00Z",
        },
    )
    (run,) = answer.json
    assert run["run_seconds"] == 2400 and run["energy_wh"] == 1500.0
    later = client.get(
        "/api/v1/usage",
        headers=world.headers("admin"),
        query_string={"from": "2026-03-02T01:00:00Z"},
    )
    assert later.json == []


def test_a_maker_asking_for_someone_elses_usage_is_403(client, world, runs):
    answer = client.get(
        "/api/v1/usage", headers=world.headers("maker"), query_string={"account": world.id("other")}
    )
    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "forbidden"
