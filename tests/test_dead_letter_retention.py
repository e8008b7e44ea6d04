"""Dead letters are kept for `[telemetry] dead_letter_retention_days`, then the scheduler
deletes them in bounded batches; their counters stay."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, func, select

from scheduler import jobs
from service.models import DeadLetter
from service.rules.dead_letters import purge_dead_letters
from telemetry.deadletters import dead_letters
from tests.conftest import CURRENT_TIME
from tests.machines import scheduler_settings

RETENTION = timedelta(days=30)


def _letters(session: Session, at, n: int, device: str = "ghost") -> None:
    topic = f"smartfab/seongsu/{device}/telemetry"
    dead_letters(session=session, now=at, letters=[(topic, "not_json", b"x")] * n)
    session.commit()


def _ages(engine) -> list:
    with Session(engine) as fresh:
        return list(fresh.exec(select(DeadLetter.at).order_by(col(DeadLetter.id))).all())


def test_letters_older_than_the_retention_are_deleted_and_younger_ones_kept(session, engine):
    _letters(session, CURRENT_TIME - RETENTION - timedelta(seconds=1), 2)
    _letters(session, CURRENT_TIME - RETENTION, 1)

    deleted = purge_dead_letters(session=session, now=CURRENT_TIME, retention=RETENTION, limit=1000)
    session.commit()

    assert deleted == 2
    assert _ages(engine) == [CURRENT_TIME - RETENTION]


def test_one_purge_deletes_at_most_its_limit_oldest_first(session, engine):
    old = CURRENT_TIME - RETENTION - timedelta(days=1)
    _letters(session, old - timedelta(days=1), 2, "a")
    _letters(session, old, 3, "b")

    assert purge_dead_letters(session=session, now=CURRENT_TIME, retention=RETENTION, limit=3) == 3
    session.commit()

    with Session(engine) as fresh:
        assert fresh.exec(select(DeadLetter.device)).all() == ["b", "b"]


def test_the_job_works_off_a_backlog_in_batches_up_to_its_bound(session, engine, db_url):
    settings = scheduler_settings(db_url, telemetry={"dead_letter_retention_days": 30})
    _letters(session, CURRENT_TIME - RETENTION - timedelta(hours=1), 10)
    _letters(session, CURRENT_TIME - timedelta(days=1), 1)

    def purge(**bound):
        return jobs.purge_dead_letters(
            engine=engine, now=CURRENT_TIME, settings=settings, batch=4, **bound
        )

    first, second, third = purge(max_batches=2), purge(), purge()

    assert (first, second, third) == (8, 2, 0)
    with Session(engine) as fresh:
        assert fresh.exec(select(func.count()).select_from(DeadLetter)).one() == 1


def test_the_retention_is_a_setting(db_url):
    assert scheduler_settings(db_url).telemetry.dead_letter_retention_days == 30
    assert scheduler_settings(db_url).telemetry.max_clock_skew_s == 300
