"""The scheduler: APScheduler interval jobs over the database, one acting process at a time.

`tick(now)` runs one pass of slot enforcement and command sending; tests call it
with the time they want. Running, interval jobs call it every `tick_s` seconds and a
waker thread calls it at the next slot boundary, so a boundary is acted on at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from devices.contract import CommandAck, Event
from service.clock import utcnow
from service.config import Settings

from . import jobs
from .lease import Lease, default_holder
from .link import DeviceLink
from .mail import Mailer

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utcnow,
        holder: str | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self.holder = holder or default_holder()
        self.lease = Lease(
            engine, ttl=timedelta(seconds=settings.scheduler.lease_ttl_s), holder=self.holder
        )
        self.link = DeviceLink(
            settings.mqtt.for_scheduler(),
            client_id=f"smartfab-scheduler-{self.holder}"[:64],
            clock=clock,
            on_badge=self.answer_tap,
            on_acks=self.settle_acks,
            max_future=timedelta(seconds=settings.telemetry.max_clock_skew_s),
        )
        self.mailer = Mailer(settings.mail)
        self._pass = threading.Lock()
        self._aps: BackgroundScheduler | None = None
        self._wake = threading.Condition()
        self._wake_at: datetime | None = None
        self._stopping = False
        self._waker: threading.Thread | None = None

    # One pass each; `now` is read once and handed down.

    def tick(self, now: datetime | None = None) -> bool:
        """Enforce slots and send due commands if this scheduler holds the lease."""
        with self._pass:
            now = now or self.clock()
            if not self.lease.acquire(now):
                return False
            created = jobs.enforce_slots(engine=self.engine, now=now, settings=self.settings)
            sent = jobs.send_commands(
                engine=self.engine, now=now, settings=self.settings, publisher=self.link
            )
            self._wake_at_next(now)
            return bool(created or sent)

    def tick_notifications(self, now: datetime | None = None) -> bool:
        now = now or self.clock()
        if not self.lease.acquire(now):
            return False
        made = jobs.queue_notifications(engine=self.engine, now=now, settings=self.settings)
        sent = jobs.deliver_notifications(
            engine=self.engine, now=now, settings=self.settings, mailer=self.mailer
        )
        return bool(made or sent)

    def tick_devices(self, now: datetime | None = None) -> bool:
        now = now or self.clock()
        if not self.lease.acquire(now):
            return False
        marked = jobs.mark_silent_devices(engine=self.engine, now=now, settings=self.settings)
        expired = jobs.expire_unknown_devices(engine=self.engine, now=now, settings=self.settings)
        purged = jobs.purge_dead_letters(engine=self.engine, now=now, settings=self.settings)
        return bool(marked or expired or purged)

    # From the broker; any scheduler may do these, the lease holder or not.

    def answer_tap(self, tap: Event) -> None:
        jobs.answer_tap(engine=self.engine, now=self.clock(), tap=tap, publisher=self.link)

    def settle_acks(self, acks: list[CommandAck]) -> None:
        jobs.settle_acks(engine=self.engine, now=self.clock(), acks=acks)

    # Running in the background

    def start(self) -> None:
        self.link.start()
        aps = BackgroundScheduler(timezone="UTC")
        every = self.settings.scheduler.tick_s
        options = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        aps.add_job(self._safe(self.tick), "interval", seconds=every, id="slots", **options)
        aps.add_job(
            self._safe(self.tick_notifications),
            "interval",
            seconds=max(every * 5, 10),
            id="notifications",
            **options,
        )
        aps.add_job(
            self._safe(self.tick_devices),
            "interval",
            seconds=max(self.settings.scheduler.offline_after_s / 6, every),
            id="devices",
            **options,
        )
        self._aps = aps
        self._stopping = False
        self._waker = threading.Thread(target=self._wake_loop, name="scheduler-waker", daemon=True)
        self._waker.start()
        aps.start()
        aps.add_job(self._safe(self.tick), id="first-pass", **options)

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._waker is not None:
            self._waker.join(timeout=30)
            self._waker = None
        if self._aps is not None:
            self._aps.shutdown(wait=True)
            self._aps = None
        self.link.stop()
        self.lease.release(self.clock())

    def _wake_at_next(self, now: datetime) -> None:
        if self._waker is None:
            return
        wake = jobs.next_wakeup(engine=self.engine, now=now, settings=self.settings)
        with self._wake:
            self._wake_at = wake
            self._wake.notify_all()

    def _wake_loop(self) -> None:
        """Run a pass the moment the next boundary comes (the interval job is the safety net)."""
        while True:
            with self._wake:
                while True:
                    if self._stopping:
                        return
                    delay = None
                    if self._wake_at is not None:
                        delay = (self._wake_at - self.clock()).total_seconds()
                        if delay <= 0:
                            self._wake_at = None
                            break
                    self._wake.wait(delay)
            self._safe(self.tick)()

    @staticmethod
    def _safe(function: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            try:
                function()
            except Exception:
                log.exception("scheduler job failed; it runs again on the next pass")

        return run
