"""The scheduler's jobs: units of work over the database, each called with one `now`.

Each job claims what it acts on with conditional writes (a command key inserted once,
a status moved only from the state it was read in), returns whether it found work,
and leaves a failing item to be tried again rather than failing the whole pass.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from devices.contract import CommandAck, Event
from service.config import Settings
from service.db import write_session
from service.models import Device, Notification, NotificationState, Site
from service.rules import attendance, commands, dead_letters, notify, slots
from service.rules.access import answer_badge
from service.rules.devices import mark_stale_offline
from service.rules.senders import AckClaim, badge_refusal
from service.rules.unknown_devices import expire_quiet

from .mail import Mailer

log = logging.getLogger(__name__)

# A tap older than this is not answered: whoever tapped has walked away.
BADGE_MAX_AGE = timedelta(seconds=30)
# Dead letters deleted per transaction by the retention job.
PURGE_BATCH = 1000
# How long a claimed notification is held before another pass may try it.
MAIL_HOLD = timedelta(minutes=5)


class Publisher(Protocol):
    @property
    def connected(self) -> bool: ...

    def publish(self, commands: list[commands.Outgoing]) -> int: ...


def slot_policy(settings: Settings) -> slots.SlotPolicy:
    return slots.SlotPolicy(
        warn_before=timedelta(minutes=settings.scheduler.warn_before_end_min),
        grace=timedelta(minutes=settings.scheduler.overstay_grace_min),
    )


def enforce_slots(*, engine: Engine, now: datetime, settings: Settings) -> list[int]:
    """Check-ins, no-shows, completions, then every enable/warn/disable now due.

    Returns the ids of the commands created (sent by `send_commands`).
    """
    policy = slot_policy(settings)
    with Session(engine, expire_on_commit=False) as session:
        attendance.check_in_from_telemetry(session=session, now=now)
        session.commit()
    with write_session(engine) as session:
        attendance.mark_no_shows(
            session=session,
            now=now,
            after=timedelta(minutes=settings.scheduler.no_show_after_min),
        )
        slots.complete_ended(session=session, now=now)
        # Disables first: an enable of the same device in this pass supersedes them.
        specs = [
            *slots.due_disables(session=session, now=now, policy=policy),
            *slots.due_enables(session=session, now=now),
            *slots.due_warnings(session=session, now=now, policy=policy),
        ]
        created = commands.create_commands(session=session, now=now, specs=specs)
        attendance.unbooked_rooms_in_use(
            session=session, now=now, fresh=timedelta(seconds=settings.scheduler.offline_after_s)
        )
        session.commit()
    return created


def mark_silent_devices(*, engine: Engine, now: datetime, settings: Settings) -> int:
    """Devices silent for `offline_after_s` go offline (alert raised, usage ended)."""
    with write_session(engine) as session:
        marked = mark_stale_offline(
            session=session, now=now, after_s=settings.scheduler.offline_after_s
        )
        session.commit()
    return marked


def expire_unknown_devices(*, engine: Engine, now: datetime, settings: Settings) -> int:
    """Close the unregistered-device alerts of sites where such devices went quiet."""
    quiet = timedelta(minutes=settings.scheduler.unknown_device_quiet_min)
    with write_session(engine) as session:
        closed = expire_quiet(session=session, now=now, quiet=quiet)
        session.commit()
    return closed


def purge_dead_letters(
    *,
    engine: Engine,
    now: datetime,
    settings: Settings,
    batch: int = PURGE_BATCH,
    max_batches: int = 20,
) -> int:
    """Delete dead letters past `[telemetry] dead_letter_retention_days`, one transaction
    per `batch` rows (short write locks), at most `max_batches` per pass: a backlog is
    worked off over the next passes. Returns how many were deleted."""
    retention = timedelta(days=settings.telemetry.dead_letter_retention_days)
    deleted = 0
    for _ in range(max_batches):
        with write_session(engine) as session:
            found = dead_letters.purge_dead_letters(
                session=session, now=now, retention=retention, limit=batch
            )
            session.commit()
        deleted += found
        if found < batch:
            break
    return deleted


def send_commands(
    *, engine: Engine, now: datetime, settings: Settings, publisher: Publisher
) -> int:
    """Publish the commands that are due and the retries of unacknowledged ones."""
    if not publisher.connected:
        return 0  # claiming now would spend tries on messages that cannot leave
    retry = timedelta(seconds=settings.scheduler.command_retry_s)
    with write_session(engine) as session:
        ids = commands.claim_first_sends(session=session, now=now, retry=retry)
        ids += commands.claim_retries(
            session=session,
            now=now,
            retry=retry,
            max_tries=settings.scheduler.command_max_tries,
        )
        session.commit()
        due = commands.outgoing(session=session, ids=ids)
    return publisher.publish(due)


def next_wakeup(*, engine: Engine, now: datetime, settings: Settings) -> datetime | None:
    """The next slot boundary or no-show, so the scheduler can wake up right then.

    Retries of unacknowledged commands are left to the regular passes.
    """
    with Session(engine) as session:
        moments = [
            slots.next_boundary(session=session, now=now, policy=slot_policy(settings)),
            attendance.next_no_show(
                session=session,
                now=now,
                after=timedelta(minutes=settings.scheduler.no_show_after_min),
            ),
        ]
    found = [m for m in moments if m is not None]
    return min(found) if found else None


def settle_acks(*, engine: Engine, now: datetime, acks: list[CommandAck]) -> int:
    """Record a batch of cmd/acks in one transaction; how many settled a command."""
    tries_left = 3
    while True:
        tries_left -= 1
        try:
            with write_session(engine) as session:
                claims = [AckClaim(ack.site, ack.device, ack.id, ack.ok) for ack in acks]
                settled = commands.acknowledge(session=session, now=now, acks=claims)
                session.commit()
            return settled
        except OperationalError:  # e.g. a deadlock with a concurrent claim: try again
            if not tries_left:
                raise


def answer_tap(*, engine: Engine, now: datetime, tap: Event, publisher: Publisher) -> None:
    """Decide a badge tap and publish the answer at once."""
    if tap.type != "badge":
        return
    if tap.ts < now - BADGE_MAX_AGE:
        log.info("ignoring a stale tap at %s/%s", tap.site, tap.device)
        return
    with Session(engine, expire_on_commit=False) as session:
        device = session.exec(
            select(Device)
            .join(Site, col(Site.id) == col(Device.site_id))
            .where(Site.slug == tap.site, Device.slug == tap.device)
        ).first()
        if device is None:
            return  # the listener raises the unknown-device alert
        if badge_refusal(resource_id=device.resource_id) is not None:
            return  # the listener keeps it as a dead letter
        _, answer = answer_badge(session=session, now=now, device=device, card=tap.data["card"])
        session.commit()
    if answer is not None:
        publisher.publish([answer])


def queue_notifications(*, engine: Engine, now: datetime, settings: Settings) -> int:
    """Record reminders and decision notices that are due (e-mailed by `deliver_notifications`)."""
    with write_session(engine) as session:
        made = notify.queue_reminders(
            session=session, now=now, lead=timedelta(minutes=settings.mail.notify_lead_min)
        )
        made += notify.queue_decisions(
            session=session, now=now, lookback=timedelta(hours=settings.scheduler.notify_lookback_h)
        )
        session.commit()
    return made


def deliver_notifications(
    *, engine: Engine, now: datetime, settings: Settings, mailer: Mailer
) -> int:
    """E-mail the pending notifications; one that is no longer true is skipped, not sent."""
    if not mailer.configured:
        return 0
    with write_session(engine) as session:
        ids = notify.claim_due(session=session, now=now, hold=MAIL_HOLD)
        session.commit()
    sent = 0
    for notification_id in ids:
        with Session(engine, expire_on_commit=False) as session:
            notification = session.get(Notification, notification_id)
            if notification is None:
                continue
            to = notify.recipient(session=session, notification=notification)
            if to is None or not notify.still_useful(
                session=session, now=now, notification=notification
            ):
                notify.settle(
                    session=session,
                    now=now,
                    notification=notification,
                    state=NotificationState.skipped,
                )
                session.commit()
                continue
            try:
                mailer.send(to=to, subject=notification.subject, body=notification.body)
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("mail to %s failed: %s", to, exc)
                last = notification.tries >= settings.scheduler.command_max_tries
                notify.settle(
                    session=session,
                    now=now,
                    notification=notification,
                    state=NotificationState.failed,
                    error=str(exc),
                    retry=None if last else timedelta(minutes=notification.tries),
                )
            else:
                notify.settle(
                    session=session,
                    now=now,
                    notification=notification,
                    state=NotificationState.sent,
                )
                sent += 1
            session.commit()
    return sent
