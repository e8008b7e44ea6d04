"""Maintenance blackouts and switching a machine by hand: the rules on both databases, and
the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from service.errors import Forbidden, RuleViolation
from service.models import (
    AuditLog,
    Blackout,
    CommandState,
    DeviceCommand,
)
from service.rules.commands import claim_first_sends, outgoing
from service.rules.maintenance import create_blackout, end_blackout, switch_by_hand
from tests.conftest import CURRENT_TIME
from tests.factories import principal_of, seoul

LASER = "/ops/machines/seongsu/laser-1"


# -- the rules, on both databases ------------------------------------------------------------


def test_a_blackout_is_audited_and_blocks_booking_at_once(client, session, world):
    made = create_blackout(
        session=session,
        now=CURRENT_TIME,
        actor=principal_of(session, world, "operator"),
        resource_id=world.id("laser"),
        start=seoul("2026-03-03 10:00"),
        end=seoul("2026-03-03 12:00"),
        reason="  new   lens ",
    )
    session.commit()
    assert made.reason == "new lens"
    entry = session.exec(select(AuditLog).where(AuditLog.action == "blackout.created")).one()
    assert entry.detail["reason"] == "new lens"
    answer = client.post(
        "/api/v1/reservations",
        headers=world.headers("maker"),
        json={
            "resource_id": world.id("laser"),
            "start": seoul("2026-03-03 11:00").isoformat(),
            "end": seoul("2026-03-03 11:30").isoformat(),
        },
    )
    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "blackout"


def test_ending_early_frees_the_rest_and_withdrawing_removes_a_future_one(session, world):
    operator = principal_of(session, world, "operator")
    running = create_blackout(
        session=session,
        now=CURRENT_TIME,
        actor=operator,
        resource_id=world.id("laser"),
        start=CURRENT_TIME - timedelta(hours=1),
        end=CURRENT_TIME + timedelta(hours=3),
        reason="repair",
    )
    ahead = create_blackout(
        session=session,
        now=CURRENT_TIME,
        actor=operator,
        resource_id=world.id("laser"),
        start=CURRENT_TIME + timedelta(days=1),
        end=CURRENT_TIME + timedelta(days=2),
        reason="service",
    )
    session.commit()
    ended = end_blackout(
        session=session,
        now=CURRENT_TIME,
        actor=operator,
        resource_id=world.id("laser"),
        blackout_id=running.id,
    )
    gone = end_blackout(
        session=session,
        now=CURRENT_TIME,
        actor=operator,
        resource_id=world.id("laser"),
        blackout_id=ahead.id,
    )
    session.commit()
    assert ended is not None and ended.end_at == CURRENT_TIME
    assert gone is None and session.get(Blackout, ahead.id) is None
    actions = sorted(a.action for a in session.exec(select(AuditLog)).all())
    assert actions == [
        "blackout.created",
        "blackout.created",
        "blackout.ended",
        "blackout.withdrawn",
    ]
    with pytest.raises(RuleViolation) as over:
        end_blackout(
            session=session,
            now=CURRENT_TIME,
            actor=operator,
            resource_id=world.id("laser"),
            blackout_id=running.id,
        )
    assert over.value.code == "blackout_over"


def test_blackout_rules_refuse_other_sites_and_past_times(session, world):
    with pytest.raises(Forbidden):
        create_blackout(
            session=session,
            now=CURRENT_TIME,
            actor=principal_of(session, world, "mullae_operator"),
            resource_id=world.id("laser"),
            start=seoul("2026-03-03 10:00"),
            end=seoul("2026-03-03 12:00"),
            reason="x",
        )
    with pytest.raises(RuleViolation) as past:
        create_blackout(
            session=session,
            now=CURRENT_TIME,
            actor=principal_of(session, world, "operator"),
            resource_id=world.id("laser"),
            start=seoul("2026-03-01 10:00"),
            end=seoul("2026-03-01 12:00"),
            reason="x",
        )
    assert past.value.code == "in_the_past"


def test_switching_by_hand_supersedes_open_commands_and_is_audited(
    session, world, registered_devices
):
    operator = principal_of(session, world, "operator")
    first = switch_by_hand(
        session=session,
        now=CURRENT_TIME,
        actor=operator,
        resource_id=world.id("laser"),
        action="enable",
        reason="test cut",
    )
    second = switch_by_hand(
        session=session,
        now=CURRENT_TIME,
        actor=operator,
        resource_id=world.id("laser"),
        action="disable",
        reason="jammed",
    )
    session.commit()
    states = {c.id: c for c in session.exec(select(DeviceCommand)).all()}
    assert states[first].state == CommandState.superseded
    command = states[second]
    assert (command.state, command.source, command.message) == (
        CommandState.pending,
        "manual",
        "jammed",
    )
    assert command.due_at == CURRENT_TIME and command.next_try_at == CURRENT_TIME
    # The scheduler's next pass sends it like any other command.
    claimed = claim_first_sends(session=session, now=CURRENT_TIME, retry=timedelta(seconds=30))
    assert claimed == [second]
    (sent,) = outgoing(session=session, ids=claimed)
    assert (sent.site, sent.device, sent.action, sent.message) == (
        "seongsu",
        "laser-1",
        "disable",
        "jammed",
    )
    session.commit()
    entries = session.exec(select(AuditLog).order_by(AuditLog.id)).all()
    assert [(e.action, e.detail["reason"]) for e in entries] == [
        ("machine.enabled", "test cut"),
        ("machine.disabled", "jammed"),
    ]


# -- the API ---------------------------------------------------------------------------------


def test_the_api_plans_and_ends_maintenance(client, world):
    path = f"/api/v1/resources/{world.id('laser')}/blackouts"
    body = {
        "start": "2026-03-03T10:00:00+09:00",
        "end": "2026-03-03T12:00:00+09:00",
        "reason": "calibration",
    }
    made = client.post(path, headers=world.headers("operator"), json=body)
    assert made.status_code == 201, made.json
    assert made.json["reason"] == "calibration"
    assert client.post(path, headers=world.headers("maker"), json=body).status_code == 403
    assert client.post(path, headers=world.headers("mullae_operator"), json=body).status_code == 403
    gone = client.delete(f"{path}/{made.json['id']}", headers=world.headers("admin"))
    assert gone.status_code == 200, gone.json
    assert gone.json["withdrawn"] is True
    assert (
        client.delete(f"{path}/{made.json['id']}", headers=world.headers("admin")).status_code
        == 404
    )


def test_the_api_switches_a_machine_by_hand(client, world, registered_devices):
    path = f"/api/v1/resources/{world.id('laser')}/commands"
    answer = client.post(
        path,
        headers=world.headers("operator"),
        json={"action": "enable", "reason": "demo for visitors"},
    )
    assert answer.status_code == 201, answer.json
    assert (answer.json["action"], answer.json["state"], answer.json["source"]) == (
        "enable",
        "pending",
        "manual",
    )
    bad = client.post(
        path, headers=world.headers("operator"), json={"action": "warn", "reason": "x"}
    )
    assert bad.status_code == 422
    assert (
        client.post(
            path, headers=world.headers("maker"), json={"action": "enable", "reason": "x"}
        ).status_code
        == 403
    )
