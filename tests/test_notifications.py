"""Notifications: reminders ahead of a booking, approval decisions, cancellations and no-shows,
e-mailed through a local SMTP server; nothing for a booking cancelled in the meantime."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from scheduler import jobs
from scheduler.mail import Mailer
from service.models import Notification, NotificationKind, NotificationState
from service.rules.accounts import principal_for
from service.rules.lifecycle import cancel_reservation, decide_approval
from tests.conftest import CURRENT_TIME
from tests.factories import seoul
from tests.machines import reserve, scheduler_settings
from tests.pg import free_port

T0 = CURRENT_TIME  # 09:00 in Seoul


class Inbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def mail_settings(db_url, smtp):
    _, port = smtp
    return scheduler_settings(
        db_url, mail={"host": "127.0.0.1", "port": port, "sender": "center@smartfab.example"}
    )


@pytest.fixture(autouse=True)
def english(session, world) -> None:
    """The texts below are checked in English: every account here chose English."""
    for account in world.accounts.values():
        account.locale = "en"
        session.add(account)
    session.commit()


def _pass(engine, settings, now) -> int:
    jobs.queue_notifications(engine=engine, now=now, settings=settings)
    return jobs.deliver_notifications(
        engine=engine, now=now, settings=settings, mailer=Mailer(settings.mail)
    )


def _as(session, world, name):
    return principal_for(session=session, account=world.accounts[name])


def test_a_reminder_is_mailed_once_within_the_lead(engine, session, world, smtp, mail_settings):
    inbox, _ = smtp
    reserve(session, world.resources["laser"], world.id("maker"), seoul("2026-03-02 11:00"))

    assert _pass(engine, mail_settings, seoul("2026-03-02 09:59")) == 0
    assert _pass(engine, mail_settings, seoul("2026-03-02 10:00")) == 1
    assert _pass(engine, mail_settings, seoul("2026-03-02 10:30")) == 0

    (mail,) = inbox.messages
    assert mail["To"] == "maker@example.com"
    assert mail["From"] == "center@smartfab.example"
    assert mail["Subject"] == "Reminder: laser-1 at 2026-03-02 11:00"
    assert "11:00" in mail.get_payload() and "12:00" in mail.get_payload()


def test_a_reminder_for_a_booking_cancelled_meanwhile_is_not_sent(
    engine, session, world, smtp, mail_settings
):
    inbox, _ = smtp
    laser = world.resources["laser"]
    booked = reserve(session, laser, world.id("maker"), seoul("2026-03-02 11:00"))
    jobs.queue_notifications(engine=engine, now=seoul("2026-03-02 10:00"), settings=mail_settings)
    cancel_reservation(
        session=session,
        now=seoul("2026-03-02 10:01"),
        actor=_as(session, world, "maker"),
        reservation_id=booked.id,
    )
    session.commit()

    _pass(engine, mail_settings, seoul("2026-03-02 10:02"))

    assert inbox.subjects() == ["Cancelled: laser-1 at 2026-03-02 11:00"]
    with Session(engine) as fresh:
        reminder = fresh.exec(
            select(Notification).where(Notification.kind == NotificationKind.reminder)
        ).one()
    assert reminder.state == NotificationState.skipped


def test_approval_decisions_and_no_shows_are_mailed(engine, session, world, smtp, mail_settings):
    inbox, _ = smtp
    embroidery = world.resources["embroidery"]
    approved = reserve(
        session, embroidery, world.id("maker"), seoul("2026-03-03 10:00"), status="pending"
    )
    declined = reserve(
        session, embroidery, world.id("other"), seoul("2026-03-04 10:00"), status="pending"
    )
    for reservation, approve in ((approved, True), (declined, False)):
        decide_approval(
            session=session,
            now=T0,
            actor=_as(session, world, "operator"),
            reservation_id=reservation.id,
            approve=approve,
        )
    session.commit()
    reserve(session, world.resources["cnc"], world.id("other"), T0)
    jobs.enforce_slots(engine=engine, now=T0 + timedelta(minutes=15), settings=mail_settings)

    _pass(engine, mail_settings, T0 + timedelta(minutes=16))

    assert sorted(inbox.subjects()) == [
        "Approved: embroidery-1 at 2026-03-03 10:00",
        "Declined: embroidery-1 at 2026-03-04 10:00",
        "Missed: cnc-1 at 2026-03-02 09:00",
    ]
    to = {str(m["Subject"]).split(":")[0]: m["To"] for m in inbox.messages}
    assert to == {
        "Approved": "maker@example.com",
        "Declined": "other@example.com",
        "Missed": "other@example.com",
    }


def test_after_downtime_stale_reminders_are_not_replayed(
    engine, session, world, smtp, mail_settings
):
    inbox, _ = smtp
    reserve(session, world.resources["laser"], world.id("maker"), seoul("2026-03-02 10:00"))
    reserve(session, world.resources["cnc"], world.id("maker"), seoul("2026-03-02 11:30"))

    # Down from before 09:00 until 10:45: the first booking started, the second is due soon.
    _pass(engine, mail_settings, seoul("2026-03-02 10:45"))

    assert inbox.subjects() == ["Reminder: cnc-1 at 2026-03-02 11:30"]


def test_without_smtp_notifications_are_recorded_but_not_mailed(
    db_url, engine, session, world, smtp
):
    inbox, _ = smtp
    settings = scheduler_settings(db_url)
    reserve(session, world.resources["laser"], world.id("maker"), seoul("2026-03-02 10:00"))

    assert _pass(engine, settings, T0) == 0

    assert inbox.messages == []
    with Session(engine) as fresh:
        (recorded,) = fresh.exec(select(Notification))
    assert recorded.state == NotificationState.pending
    assert recorded.kind == NotificationKind.reminder


def test_a_failed_delivery_is_tried_again_later(engine, session, world, db_url):
    settings = scheduler_settings(db_url, mail={"host": "127.0.0.1", "port": free_port()})
    reserve(session, world.resources["laser"], world.id("maker"), seoul("2026-03-02 10:00"))

    assert _pass(engine, settings, T0) == 0

    with Session(engine) as fresh:
        (pending,) = fresh.exec(select(Notification))
    assert pending.state == NotificationState.pending and pending.tries == 1
    assert pending.error and pending.next_try_at == T0 + timedelta(minutes=1)


def test_mail_speaks_the_sites_language_unless_the_account_chose_another(
    engine, session, world, smtp, mail_settings
):
    inbox, _ = smtp
    maker, other = world.accounts["maker"], world.accounts["other"]
    maker.locale, other.locale = None, "en"
    world.resources["laser"].name_en = "Laser cutter #1"
    session.add_all([maker, other, world.resources["laser"]])
    session.commit()
    laser = world.resources["laser"]
    reserve(session, laser, world.id("maker"), seoul("2026-03-02 11:00"), minutes=30)
    reserve(session, laser, world.id("other"), seoul("2026-03-02 11:30"), minutes=30)

    assert _pass(engine, mail_settings, seoul("2026-03-02 10:45")) == 2

    mails = {str(m["To"]): m for m in inbox.messages}
    korean, english = mails["maker@example.com"], mails["other@example.com"]
    subject = str(make_header(decode_header(korean["Subject"])))
    assert subject == "예약 알림: laser-1 2026-03-02 11:00"
    assert "체크인" in korean.get_payload(decode=True).decode()
    assert str(english["Subject"]) == "Reminder: Laser cutter #1 at 2026-03-02 11:30"
