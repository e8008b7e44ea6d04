"""No double booking under concurrency, through the HTTP API of a running server."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import requests
from sqlmodel import Session, col, func, select

from service.models import BLOCKING, Reservation
from tests.live import serve

SEOUL = ZoneInfo("Asia/Seoul")
REQUESTS = 50


def next_open_weekday_at(hour: int) -> datetime:
    """A time a week or so ahead of the real clock, on a weekday the site is open."""
    day = datetime.now(SEOUL).date() + timedelta(days=7)
    while day.weekday() > 4:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=SEOUL)


def fire_together(url: str, bodies: list[dict], headers: list[dict]) -> list[requests.Response]:
    barrier = threading.Barrier(len(bodies))
    answers: list[requests.Response | None] = [None] * len(bodies)

    def one(i: int) -> None:
        barrier.wait()
        answers[i] = requests.post(url, json=bodies[i], headers=headers[i], timeout=60)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(a is not None for a in answers)
    return [a for a in answers if a is not None]


def test_fifty_concurrent_overlapping_bookings_yield_one_201_and_409s(db_url, world, engine):
    start = next_open_weekday_at(10)
    bodies, headers = [], []
    for i in range(REQUESTS):
        # Every request overlaps every other: all contain 11:00-12:00.
        begin = start + timedelta(hours=i % 2)
        bodies.append(
            {
                "resource_id": world.id("printer"),
                "start": begin.isoformat(),
                "end": (begin + timedelta(hours=2 - i % 2 + 1)).isoformat(),
            }
        )
        headers.append(world.headers("maker" if i % 2 else "other"))

    with serve(db_url) as base:
        answers = fire_together(f"{base}/api/v1/reservations", bodies, headers)

    created = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code == 409]
    assert len(created) == 1, [a.status_code for a in answers]
    assert len(refused) == REQUESTS - 1
    winner = created[0].json()["id"]
    for answer in refused:
        error = answer.json()["error"]
        assert error["code"] == "conflict"
        assert error["details"]["conflicting_reservation"]["id"] == winner
    with Session(engine) as session:
        held = session.exec(select(func.count()).where(col(Reservation.status).in_(BLOCKING))).one()
    assert held == 1
