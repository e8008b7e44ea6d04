"""GET /api/v1/alerts, POST /api/v1/alerts/{id}/ack and /resolve: scope, filters, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from service.models import Alert, AlertKind, AuditLog
from service.rules.devices import new_alert
from tests.conftest import CURRENT_TIME
from tests.factories import refused

T0 = CURRENT_TIME - timedelta(hours=3)


@pytest.fixture
def alerts(session, world) -> dict[str, int]:
    """Alerts at both sites and one of no known site, by name → id."""
    seongsu, mullae = world.sites["seongsu"].id, world.sites["mullae"].id
    made = {
        "laser_offline": new_alert(
            now=T0,
            kind=AlertKind.offline,
            subject="seongsu/laser-1",
            message="laser-1 went offline",
            site_id=seongsu,
            resource_id=world.id("laser"),
        ),
        "cnc_fault": new_alert(
            now=T0 + timedelta(hours=1),
            kind=AlertKind.fault,
            subject="seongsu/cnc-1",
            message="cnc-1 reports a fault",
            site_id=seongsu,
            resource_id=world.id("cnc"),
        ),
        "lathe_offline": new_alert(
            now=T0 + timedelta(hours=2),
            kind=AlertKind.offline,
            subject="mullae/lathe-1",
            message="lathe-1 went offline",
            site_id=mullae,
            resource_id=world.id("lathe"),
        ),
        "nowhere": new_alert(
            now=T0, kind=AlertKind.unknown_device, subject="*", message="unknown sites"
        ),
    }
    made["cnc_fault"].closed_at = T0 + timedelta(hours=2)
    session.add_all(made.values())
    session.commit()
    return {name: alert.id for name, alert in made.items()}


def subjects(answer) -> list[str]:
    assert answer.status_code == 200, answer.json
    return [a["subject"] for a in answer.json]


def test_an_operator_sees_only_the_alerts_of_their_site(client, world, alerts):
    answer = client.get("/api/v1/alerts", headers=world.headers("operator"))
    assert subjects(answer) == ["seongsu/cnc-1", "seongsu/laser-1"]
    laser = answer.json[1]
    assert (laser["site"], laser["resource"], laser["kind"], laser["state"]) == (
        "seongsu",
        "laser-1",
        "offline",
        "open",
    )


def test_an_admin_sees_every_alert_also_those_of_no_site(client, world, alerts):
    answer = client.get("/api/v1/alerts", headers=world.headers("admin"))
    assert subjects(answer) == ["mullae/lathe-1", "seongsu/cnc-1", "*", "seongsu/laser-1"]


def test_a_maker_may_not_list_alerts(client, world, alerts):
    refused(client.get("/api/v1/alerts", headers=world.headers("maker")), 403, "forbidden")


def test_an_operator_naming_another_site_is_refused(client, world, alerts):
    answer = client.get("/api/v1/alerts?site=mullae", headers=world.headers("operator"))
    refused(answer, 403, "forbidden")


@pytest.mark.parametrize(
    "query,expected",
    [
        ("site=mullae", ["mullae/lathe-1"]),
        ("kind=offline", ["mullae/lathe-1", "seongsu/laser-1"]),
        ("state=closed", ["seongsu/cnc-1"]),
        ("state=open&site=seongsu", ["seongsu/laser-1"]),
        ("since=2026-03-02T07:00:00%2B09:00", ["mullae/lathe-1", "seongsu/cnc-1"]),
        ("limit=1", ["mullae/lathe-1"]),
    ],
)
def test_alerts_are_filtered_by_site_kind_state_and_time(client, world, alerts, query, expected):
    answer = client.get(f"/api/v1/alerts?{query}", headers=world.headers("admin"))
    assert subjects(answer) == expected


def audit(session, action: str) -> list[tuple[int | None, str, dict]]:
    session.expire_all()
    rows = session.exec(
        select(AuditLog).where(AuditLog.action == action).order_by(col(AuditLog.id))
    )
    return [(r.actor_id, r.subject, r.detail) for r in rows]


def test_acknowledging_records_who_when_and_the_note(client, session, world, alerts):
    laser = alerts["laser_offline"]
    answer = client.post(
        f"/api/v1/alerts/{laser}/ack",
        headers=world.headers("operator"),
        json={"note": "  checking the cable  "},
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["acknowledged_by"] == world.id("operator")
    assert answer.json["acknowledged_at"] == "2026-03-02T00:00:00Z"
    assert (answer.json["ack_note"], answer.json["state"]) == ("checking the cable", "open")
    assert audit(session, "alert.acknowledge") == [
        (world.id("operator"), f"alert:{laser}", {"note": "checking the cable"})
    ]


def test_resolving_closes_the_alert_once(client, session, world, alerts):
    laser = alerts["laser_offline"]
    answer = client.post(
        f"/api/v1/alerts/{laser}/resolve", headers=world.headers("admin"), json={"note": "fixed"}
    )
    assert answer.status_code == 200, answer.json
    assert (answer.json["state"], answer.json["closed_by"], answer.json["close_note"]) == (
        "closed",
        world.id("admin"),
        "fixed",
    )
    stored = session.get(Alert, laser)
    session.refresh(stored)
    assert stored.closed_at == CURRENT_TIME
    again = client.post(f"/api/v1/alerts/{laser}/resolve", headers=world.headers("admin"), json={})
    refused(again, 409, "alert_closed")
    assert audit(session, "alert.resolve") == [
        (world.id("admin"), f"alert:{laser}", {"note": "fixed"})
    ]


def test_acknowledging_a_closed_alert_is_a_conflict(client, session, world, alerts):
    answer = client.post(
        f"/api/v1/alerts/{alerts['cnc_fault']}/ack", headers=world.headers("operator"), json={}
    )
    refused(answer, 409, "alert_closed")
    assert audit(session, "alert.acknowledge") == []


@pytest.mark.parametrize("action", ["ack", "resolve"])
@pytest.mark.parametrize("actor,alert", [("operator", "lathe_offline"), ("operator", "nowhere")])
def test_an_alert_outside_the_operators_sites_is_not_found(
    client, world, alerts, action, actor, alert
):
    answer = client.post(
        f"/api/v1/alerts/{alerts[alert]}/{action}", headers=world.headers(actor), json={}
    )
    refused(answer, 404, "not_found")


@pytest.mark.parametrize("action", ["ack", "resolve"])
def test_a_maker_cannot_handle_alerts(client, world, alerts, action):
    answer = client.post(
        f"/api/v1/alerts/{alerts['laser_offline']}/{action}",
        headers=world.headers("maker"),
        json={},
    )
    refused(answer, 404, "not_found")


def test_an_unknown_alert_is_not_found(client, world, alerts):
    answer = client.post("/api/v1/alerts/999999/ack", headers=world.headers("admin"), json={})
    refused(answer, 404, "not_found")


@pytest.mark.parametrize(
    "body",
    [{"note": "x" * 501}, {"note": 5}, {"note": "ok", "extra": 1}, ["note"]],
)
def test_a_bad_note_is_refused_and_changes_nothing(client, session, world, alerts, body):
    laser = alerts["laser_offline"]
    answer = client.post(f"/api/v1/alerts/{laser}/ack", headers=world.headers("admin"), json=body)
    refused(answer, 422, "validation_error")
    session.expire_all()
    assert session.get(Alert, laser).acknowledged_at is None


def test_a_body_that_is_not_json_is_400(client, world, alerts):
    answer = client.post(
        f"/api/v1/alerts/{alerts['laser_offline']}/resolve",
        headers={**world.headers("admin"), "Content-Type": "application/json"},
        data=b"{not json",
    )
    refused(answer, 400, "malformed_json")


@pytest.mark.parametrize(
    "query",
    ["kind=flood", "state=ajar", "since=2026-03-02T07:00:00", "since=yesterday", "limit=0", "x=1"],
)
def test_bad_filters_are_422(client, world, alerts, query):
    answer = client.get(f"/api/v1/alerts?{query}", headers=world.headers("admin"))
    refused(answer, 422, "validation_error")


def test_alerts_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert set(paths["/api/v1/alerts"]) == {"get"}
    assert "409" in paths["/api/v1/alerts/{alert_id}/resolve"]["post"]["responses"]
    assert "404" in paths["/api/v1/alerts/{alert_id}/ack"]["post"]["responses"]
