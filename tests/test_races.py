"""Races the database must settle: quota across resources, stale reads, late cancels."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlmodel import Session

from service.db import begin_write
from service.errors import RuleViolation
from service.models import Reservation, ReservationCreate
from service.rules import policy
from service.rules.accounts import principal_for
from service.rules.booking import create_reservation, create_walk_in
from service.rules.catalogue import load_resource
from service.rules.lifecycle import extend
from tests.conftest import CURRENT_TIME
from tests.factories import book, refused, seoul


def test_a_quota_check_waits_for_a_concurrent_booking_of_the_same_account(world, engine):
    """Nine of ten hours held: two one-hour bookings on two machines race; one must lose."""
    with Session(engine, expire_on_commit=False) as first:
        actor = principal_for(session=first, account=world.accounts["maker"])
        for day in ("03", "04", "05"):  # 3 x 3 h = 9 h this week
            create_reservation(
                session=first,
                now=CURRENT_TIME,
                actor=actor,
                data=ReservationCreate(
                    resource_id=world.id("printer"),
                    start=seoul(f"2026-03-{day} 10:00"),
                    end=seoul(f"2026-03-{day} 13:00"),
                ),
            )
        # The first booking takes the write lock and passes the quota check ...
        begin_write(first)
        resource, site = load_resource(session=first, resource_id=world.id("cnc"))
        start, end = seoul("2026-03-06 10:00"), seoul("2026-03-06 11:00")
        policy.check_quota(
            session=first,
            resource=resource,
            site=site,
            account_id=world.id("maker"),
            start=start,
            end=end,
        )
        outcome: list[BaseException | Reservation] = []

        def second_booking() -> None:
            with Session(engine, expire_on_commit=False) as second:
                try:
                    outcome.append(
                        create_reservation(
                            session=second,
                            now=CURRENT_TIME,
                            actor=principal_for(session=second, account=world.accounts["maker"]),
                            data=ReservationCreate(
                                resource_id=world.id("printer"),
                                start=seoul("2026-03-06 10:00"),
                                end=seoul("2026-03-06 11:00"),
                            ),
                        )
                    )
                except BaseException as exc:  # noqa: BLE001 - the test inspects it
                    outcome.append(exc)

        racer = threading.Thread(target=second_booking)
        racer.start()
        racer.join(timeout=1.0)
        assert racer.is_alive(), "the second quota check must wait for the first booking"
        # ... then books and commits.
        first.add(
            Reservation(
                resource_id=world.id("cnc"),
                account_id=world.id("maker"),
                created_by_id=world.id("maker"),
                start_at=start,
                end_at=end,
                blocked_until=end + timedelta(minutes=15),
                created_at=CURRENT_TIME,
                updated_at=CURRENT_TIME,
            )
        )
        first.commit()
        racer.join(timeout=30)
    assert len(outcome) == 1
    assert isinstance(outcome[0], RuleViolation)
    assert outcome[0].code == "quota_exceeded"


def test_a_maker_cannot_cancel_a_started_reservation_but_an_operator_can(client, world, app):
    made = book(client, world, "maker", "printer", "2026-03-02 09:00", "2026-03-02 11:00")
    assert made.status_code == 201, made.json
    app.config["CLOCK"] = lambda: CURRENT_TIME + timedelta(minutes=30)
    rid = made.json["id"]
    refused(
        client.delete(f"/api/v1/reservations/{rid}", headers=world.headers("maker")),
        409,
        "already_started",
    )
    answer = client.delete(f"/api/v1/reservations/{rid}", headers=world.headers("operator"))
    assert answer.status_code == 200
    assert answer.json["status"] == "cancelled"


def test_a_walk_in_off_the_slot_grid_can_be_extended(world, engine):
    now = CURRENT_TIME + timedelta(minutes=7)  # 09:07 in Seoul, off the 30-minute grid
    with Session(engine, expire_on_commit=False) as session:
        actor = principal_for(session=session, account=world.accounts["other"])
        walk_in = create_walk_in(
            session=session,
            now=now,
            actor=actor,
            resource_id=world.id("cnc"),
            end=seoul("2026-03-02 10:00"),
        )
        longer = extend(
            session=session,
            now=now + timedelta(minutes=20),
            actor=actor,
            reservation_id=walk_in.id or 0,
            end=seoul("2026-03-02 11:00"),
        )
    assert longer.end_at == seoul("2026-03-02 11:00")
    assert longer.start_at == now
