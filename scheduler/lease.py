"""One scheduler acts at a time: a lease row taken and renewed by a conditional UPDATE.

Works the same on SQLite and PostgreSQL. A holder that stops renewing (crashed,
paused, cut off) loses the lease after its time to live and another takes over.
The jobs claim their work with conditional writes as well, so even two holders
at once (a paused process waking up) would not send a command twice.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Engine, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from service.db import write_session
from service.models import SchedulerLease


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    def __init__(
        self,
        engine: Engine,
        *,
        ttl: timedelta,
        name: str = "scheduler",
        holder: str | None = None,
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self.name = name
        self.holder = holder or default_holder()

    def acquire(self, now: datetime) -> bool:
        """Take or renew the lease; False while another holder's lease runs."""
        with write_session(self.engine) as session:
            renewed = session.execute(
                update(SchedulerLease)
                .where(
                    col(SchedulerLease.name) == self.name,
                    or_(
                        col(SchedulerLease.holder) == self.holder,
                        col(SchedulerLease.expires_at) <= now,
                    ),
                )
                .values(holder=self.holder, expires_at=now + self.ttl)
            )
            if renewed.rowcount:  # type: ignore[attr-defined]
                session.commit()
                return True
            if session.get(SchedulerLease, self.name) is not None:
                return False
            session.add(
                SchedulerLease(
                    name=self.name, holder=self.holder, acquired_at=now, expires_at=now + self.ttl
                )
            )
            try:
                session.commit()
            except IntegrityError:
                return False
            return True

    def release(self, now: datetime) -> None:
        """Give the lease up at once so another scheduler need not wait for it to expire."""
        with write_session(self.engine) as session:
            session.execute(
                update(SchedulerLease)
                .where(
                    col(SchedulerLease.name) == self.name,
                    col(SchedulerLease.holder) == self.holder,
                )
                .values(expires_at=now)
            )
            session.commit()
