"""Today at my site, the approvals queue, and booking on a maker's behalf.

The pages run on SQLite only (they check rendering); the rules underneath, booking on
behalf with an override and declining with a reason, run on both databases.
"""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlmodel import col, select

from service.errors import Conflict, Forbidden
from service.models import (
    AuditLog,
    Notification,
    NotificationKind,
    Reservation,
    ReservationCreate,
    ReservationStatus,
    Resource,
)
from service.rules.accounts import Principal
from service.rules.booking import create_reservation
from service.rules.lifecycle import decide_approval
from service.rules.notify import queue_decisions
from tests.factories import book, make_reservation, make_run, refused, seoul
from tests.pages import csrf_token, login

SQLITE = pytest.mark.sqlite_only
TODAY = "/ops/today"
APPROVALS = "/ops/approvals"
NOON = seoul("2026-03-03 12:00").astimezone(UTC)


@pytest.fixture
def at_noon(app):
    app.config["CLOCK"] = lambda: NOON
    return NOON


def operator(world) -> Principal:
    return Principal(id=world.id("operator"), operator_sites=frozenset({world.sites["seongsu"].id}))


def fresh(session, reservation_id: int) -> Reservation:
    session.rollback()
    found = session.get(Reservation, reservation_id)
    assert found is not None
    return found


def audit(session, action: str) -> list[AuditLog]:
    session.rollback()
    return list(session.exec(select(AuditLog).where(AuditLog.action == action)))


def post(client, path: str, page: str = TODAY, **form: str):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **form})


# --- today at my site -------------------------------------------------------------------


@SQLITE
def test_today_lists_the_days_bookings_with_state_no_shows_and_walk_ins(
    client, world, session, at_noon
):
    make_reservation(session, world, "maker", "printer", "2026-03-03 09:00", "2026-03-03 10:00")
    make_reservation(
        session,
        world,
        "other",
        "cnc",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        status=ReservationStatus.no_show,
    )
    make_reservation(
        session,
        world,
        "maker",
        "room",
        "2026-03-03 11:00",
        "2026-03-03 13:00",
        status=ReservationStatus.active,
        checked_in_at=seoul("2026-03-03 11:02"),
    )
    make_reservation(
        session, world, "other", "printer", "2026-03-04 10:00", "2026-03-04 11:00"
    )  # tomorrow
    make_reservation(session, world, "maker", "lathe", "2026-03-03 10:00", "2026-03-03 11:00")
    make_run(session, world, "laser", "2026-03-03 08:30", 1200, who="other", walk_in=True)
    session.commit()
    login(client, "operator@example.com")
    page = client.get(TODAY).get_data(as_text=True)
    assert "printer-1" in page and "cnc-1" in page and "meeting-1" in page
    assert "lathe-1" not in page.split('id="displays"')[0]  # another site's booking
    assert "11:02" in page  # checked in
    no_shows = page.split('id="no-shows"')[1].split("</section>")[0]
    assert "cnc-1" in no_shows and "other" in no_shows
    walk_ins = page.split('id="walk-ins"')[1].split("</section>")[0]
    assert "laser-1" in walk_ins and "08:30" in walk_ins
    assert "2026-03-04" not in page


@SQLITE
def test_an_operator_cannot_open_another_sites_day(client, world, at_noon):
    login(client, "mullae@example.com")
    assert client.get(f"{TODAY}?site=seongsu").status_code == 403
    assert client.get(f"{TODAY}?site=mullae").status_code == 200


@SQLITE
def test_an_admin_may_choose_any_site(client, world, at_noon):
    login(client, "admin@example.com")
    page = client.get(f"{TODAY}?site=mullae").get_data(as_text=True)
    assert "lathe-1" in page


# --- booking on a maker's behalf (page) ----------------------------------------------


def on_behalf(world, **extra: str) -> dict[str, str]:
    form = {
        "site": "seongsu",
        "account_id": str(world.id("maker")),
        "resource_id": str(world.id("printer")),
        "day": "2026-03-03",
        "start": "14:00",
        "end": "15:00",
    }
    form.update(extra)
    return form


@SQLITE
def test_an_operator_books_for_a_maker_from_the_page(client, world, session, at_noon):
    login(client, "operator@example.com")
    answer = post(client, f"{TODAY}/book", **on_behalf(world))
    assert answer.status_code == 302
    made = session.exec(select(Reservation)).one()
    assert made.account_id == world.id("maker")
    assert made.created_by_id == world.id("operator")
    assert made.override_reason == ""


@SQLITE
def test_an_override_without_a_reason_is_refused_and_books_nothing(client, world, session, at_noon):
    login(client, "operator@example.com")
    answer = post(client, f"{TODAY}/book", **on_behalf(world, override="on", override_reason=""))
    assert answer.status_code == 422
    assert "reason" in answer.get_data(as_text=True).lower() or "사유" in answer.get_data(
        as_text=True
    )
    assert session.exec(select(Reservation)).all() == []


@SQLITE
def test_an_override_from_the_page_books_after_hours_and_audits_the_reason(
    client, world, session, at_noon
):
    login(client, "operator@example.com")
    late = on_behalf(world, start="21:00", end="23:00")
    assert post(client, f"{TODAY}/book", **late).status_code == 422  # closed
    answer = post(
        client, f"{TODAY}/book", **late, override="on", override_reason="late delivery job"
    )
    assert answer.status_code == 302
    [entry] = audit(session, "reservation.create")
    assert entry.detail["override_reason"] == "late delivery job"


@SQLITE
def test_a_clash_is_refused_even_with_an_override_on_the_page(client, world, session, at_noon):
    make_reservation(
        session,
        world,
        "other",
        "printer",
        "2026-03-03 14:00",
        "2026-03-03 15:00",
        status=ReservationStatus.confirmed,
    )
    session.commit()
    login(client, "operator@example.com")
    answer = post(
        client, f"{TODAY}/book", **on_behalf(world, override="on", override_reason="x" * 5)
    )
    assert answer.status_code == 409
    assert len(session.exec(select(Reservation)).all()) == 1


# --- the approvals queue (page) ----------------------------------------------------------


@pytest.fixture
def pending(client, world) -> int:
    answer = book(client, world, "maker", "embroidery", "2026-03-05 10:00", "2026-03-05 11:00")
    assert answer.json["status"] == "pending", answer.json
    return int(answer.json["id"])


@SQLITE
def test_the_queue_lists_pending_bookings_of_my_site(client, world, pending, at_noon):
    login(client, "operator@example.com")
    page = client.get(APPROVALS).get_data(as_text=True)
    assert f'id="reservation-{pending}"' in page and "embroidery-1" in page
    client.post("/logout", data={"csrf_token": csrf_token(client, APPROVALS)})
    login(client, "mullae@example.com")
    assert f'id="reservation-{pending}"' not in client.get(APPROVALS).get_data(as_text=True)


@SQLITE
def test_approving_from_the_page_confirms_and_redirects(client, world, session, pending, at_noon):
    login(client, "operator@example.com")
    answer = post(client, f"{APPROVALS}/{pending}/approve", page=APPROVALS)
    assert answer.status_code == 302 and answer.headers["Location"] == APPROVALS
    assert fresh(session, pending).status == ReservationStatus.confirmed


@SQLITE
def test_declining_needs_a_reason_and_the_maker_is_told_it_in_korean(
    client, world, session, pending, at_noon
):
    login(client, "operator@example.com")
    assert post(client, f"{APPROVALS}/{pending}/decline", page=APPROVALS).status_code == 422
    assert fresh(session, pending).status == ReservationStatus.pending
    answer = post(
        client, f"{APPROVALS}/{pending}/decline", page=APPROVALS, reason="machine under repair"
    )
    assert answer.status_code == 302
    assert fresh(session, pending).status == ReservationStatus.cancelled
    [entry] = audit(session, "reservation.decline")
    assert entry.detail["reason"] == "machine under repair"
    assert queue_decisions(session=session, now=NOON, lookback=timedelta(days=1)) == 1
    told = session.exec(
        select(Notification).where(Notification.kind == NotificationKind.declined)
    ).one()
    assert told.account_id == world.id("maker")
    assert "machine under repair" in told.body
    assert "거절" in told.subject or "거절" in told.body


@SQLITE
def test_an_operator_of_another_site_cannot_decide(client, world, session, pending, at_noon):
    login(client, "mullae@example.com")
    answer = post(client, f"{APPROVALS}/{pending}/approve", page=APPROVALS)
    assert answer.status_code == 404
    assert fresh(session, pending).status == ReservationStatus.pending


@SQLITE
def test_resetting_a_display_address_closes_the_old_one(client, world, session, at_noon):
    old = session.get(Resource, world.id("laser")).display_secret
    assert client.get(f"/display/{old}").status_code == 200
    login(client, "operator@example.com")
    assert old in client.get(TODAY).get_data(as_text=True)
    answer = post(client, f"/ops/displays/{world.id('laser')}/reset")
    assert answer.status_code == 302
    assert client.get(f"/display/{old}").status_code == 404
    assert audit(session, "resource.display_reset")


@SQLITE
def test_an_operator_cannot_reset_another_sites_display(client, world, session, at_noon):
    login(client, "mullae@example.com")
    answer = post(client, f"/ops/displays/{world.id('laser')}/reset", page=f"{TODAY}?site=mullae")
    assert answer.status_code == 403


# --- the rules underneath, on both databases --------------------------------------------


def test_override_on_behalf_is_audited_with_its_reason_and_owned_by_the_maker(world, session):
    data = ReservationCreate.model_validate(
        {
            "resource_id": world.id("laser"),
            "account_id": world.id("other"),  # no laser training
            "start": seoul("2026-03-02 09:00"),  # no lead time left either
            "end": seoul("2026-03-02 10:00"),
            "override_reason": "training booked for next week",
        }
    )
    made = create_reservation(
        session=session, now=seoul("2026-03-02 09:00"), actor=operator(world), data=data
    )
    session.commit()
    assert made.account_id == world.id("other")
    assert made.created_by_id == world.id("operator")
    assert made.status == ReservationStatus.confirmed
    [entry] = audit(session, "reservation.create")
    assert entry.actor_id == world.id("operator")
    assert entry.detail["override_reason"] == "training booked for next week"


def test_override_never_passes_a_clash(world, session):
    make_reservation(
        session,
        world,
        "maker",
        "cnc",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        status=ReservationStatus.confirmed,
    )
    session.commit()
    data = ReservationCreate.model_validate(
        {
            "resource_id": world.id("cnc"),
            "account_id": world.id("other"),
            "start": seoul("2026-03-03 10:30"),
            "end": seoul("2026-03-03 11:30"),
            "override_reason": "urgent",
        }
    )
    with pytest.raises(Conflict):
        create_reservation(
            session=session, now=seoul("2026-03-02 09:00"), actor=operator(world), data=data
        )
    session.rollback()
    assert len(session.exec(select(Reservation)).all()) == 1


def test_a_maker_cannot_book_for_someone_else_in_the_rule(world, session):
    data = ReservationCreate.model_validate(
        {
            "resource_id": world.id("printer"),
            "account_id": world.id("other"),
            "start": seoul("2026-03-03 10:00"),
            "end": seoul("2026-03-03 11:00"),
        }
    )
    with pytest.raises(Forbidden):
        create_reservation(
            session=session,
            now=seoul("2026-03-02 09:00"),
            actor=Principal(id=world.id("maker")),
            data=data,
        )


def test_declining_with_a_reason_cancels_and_audits_the_reason(client, world, session, pending):
    decide_approval(
        session=session,
        now=NOON,
        actor=operator(world),
        reservation_id=pending,
        approve=False,
        reason=" fully booked for a class ",
    )
    session.commit()
    assert fresh(session, pending).status == ReservationStatus.cancelled
    [entry] = audit(session, "reservation.decline")
    assert entry.actor_id == world.id("operator")
    assert entry.detail == {"reason": "fully booked for a class"}
    queue_decisions(session=session, now=NOON, lookback=timedelta(days=1))
    session.commit()
    told = session.exec(
        select(Notification).where(col(Notification.kind) == NotificationKind.declined)
    ).one()
    assert "fully booked for a class" in told.body


def test_the_api_refuses_an_empty_override_reason_422_and_makers_403(client, world):
    empty = book(
        client,
        world,
        "operator",
        "printer",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        account_id=world.id("maker"),
        override_reason="",
    )
    assert empty.status_code == 422
    maker = book(
        client,
        world,
        "maker",
        "printer",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        account_id=world.id("other"),
    )
    refused(maker, 403, "forbidden")
