"""Recurring bookings: all occurrences or none, or skipping those that cannot be had."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from service.errors import RuleViolation
from service.models import AuditLog, Recurrence
from service.rules.recurrence import occurrences
from tests.factories import book, refused, seoul


def series(client, world, who: str, resource: str, start: str, end: str, **recurrence):
    return book(client, world, who, resource, start, end, recurrence=recurrence)


def starts(reservations: list[dict]) -> list[datetime]:
    return [datetime.fromisoformat(r["start"]) for r in reservations]


def mine(client, world, who: str = "maker") -> list[dict]:
    answer = client.get("/api/v1/reservations?mine=1", headers=world.headers(who))
    assert answer.status_code == 200, answer.json
    return list(answer.json)


def test_weekly_room_series_books_every_occurrence_at_the_same_local_time(client, world):
    answer = series(
        client,
        world,
        "maker",
        "room",
        "2026-03-03 10:00",
        "2026-03-03 12:00",
        freq="weekly",
        count=4,
    )
    assert answer.status_code == 201, answer.json
    made = answer.json["reservations"]
    assert starts(made) == [
        seoul(d)
        for d in ("2026-03-03 10:00", "2026-03-10 10:00", "2026-03-17 10:00", "2026-03-24 10:00")
    ]
    assert all(
        datetime.fromisoformat(r["end"]) - datetime.fromisoformat(r["start"])
        == seoul("2026-03-03 12:00") - seoul("2026-03-03 10:00")
        for r in made
    )
    assert answer.json["skipped"] == []
    assert {r["series_id"] for r in made} == {answer.json["series_id"]}
    assert [r["id"] for r in mine(client, world)] == [r["id"] for r in made]


def test_weekly_series_with_an_interval_skips_weeks(client, world):
    answer = series(
        client,
        world,
        "maker",
        "room",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        freq="weekly",
        interval=2,
        count=3,
    )
    assert answer.status_code == 201, answer.json
    assert starts(answer.json["reservations"]) == [
        seoul(d) for d in ("2026-03-03 10:00", "2026-03-17 10:00", "2026-03-31 10:00")
    ]


def test_daily_series_until_a_day_includes_that_day(client, world):
    answer = series(
        client,
        world,
        "maker",
        "room",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        freq="daily",
        until=seoul("2026-03-06 10:00").isoformat(),
    )
    assert answer.status_code == 201, answer.json
    assert starts(answer.json["reservations"]) == [
        seoul(f"2026-03-0{d} 10:00") for d in (3, 4, 5, 6)
    ]


@pytest.fixture
def theirs_on_the_seventeenth(client, world) -> int:
    answer = book(client, world, "other", "room", "2026-03-17 11:00", "2026-03-17 12:00")
    assert answer.status_code == 201, answer.json
    return int(answer.json["id"])


def test_series_with_a_taken_occurrence_books_nothing_and_is_409(
    client, world, theirs_on_the_seventeenth
):
    answer = series(
        client,
        world,
        "maker",
        "room",
        "2026-03-03 10:00",
        "2026-03-03 12:00",
        freq="weekly",
        count=4,
    )
    error = refused(answer, 409, "series_conflict")
    [occurrence] = error["details"]["occurrences"]
    assert datetime.fromisoformat(occurrence["start"]) == seoul("2026-03-17 10:00")
    assert occurrence["code"] == "conflict"
    assert occurrence["details"]["conflicting_reservation"]["id"] == theirs_on_the_seventeenth
    assert mine(client, world) == []


def test_series_reports_every_occurrence_it_cannot_book(client, world, theirs_on_the_seventeenth):
    # Daily from Sunday 15 March: Sunday is closed, the 17th is taken.
    answer = series(
        client,
        world,
        "maker",
        "room",
        "2026-03-14 10:00",
        "2026-03-14 12:00",
        freq="daily",
        count=5,
    )
    error = refused(answer, 409, "series_conflict")
    reported = {
        (datetime.fromisoformat(o["start"]), o["code"]) for o in error["details"]["occurrences"]
    }
    assert reported == {
        (seoul("2026-03-15 10:00"), "outside_opening_hours"),
        (seoul("2026-03-17 10:00"), "conflict"),
    }
    assert mine(client, world) == []


def test_series_that_breaks_only_rules_is_422_naming_each_occurrence(client, world):
    answer = series(
        client,
        world,
        "maker",
        "room",
        "2026-03-03 10:00",
        "2026-03-03 12:00",
        freq="daily",
        count=7,
    )
    error = refused(answer, 422, "series_rule_violation")
    [sunday] = error["details"]["occurrences"]
    assert datetime.fromisoformat(sunday["start"]) == seoul("2026-03-08 10:00")
    assert sunday["code"] == "outside_opening_hours"
    assert mine(client, world) == []


def test_series_skipping_conflicts_books_the_rest_and_lists_the_skipped(
    client, world, theirs_on_the_seventeenth
):
    answer = series(
        client,
        world,
        "maker",
        "room",
        "2026-03-03 10:00",
        "2026-03-03 12:00",
        freq="weekly",
        count=4,
        skip_conflicts=True,
    )
    assert answer.status_code == 201, answer.json
    assert starts(answer.json["reservations"]) == [
        seoul(d) for d in ("2026-03-03 10:00", "2026-03-10 10:00", "2026-03-24 10:00")
    ]
    [skipped] = answer.json["skipped"]
    assert datetime.fromisoformat(skipped["start"]) == seoul("2026-03-17 10:00")
    assert (skipped["status"], skipped["code"]) == (409, "conflict")
    assert len(mine(client, world)) == 3


def test_series_skipping_conflicts_with_nothing_bookable_is_409(client, world):
    answer = series(
        client,
        world,
        "maker",
        "room",
        "2026-03-08 10:00",
        "2026-03-08 11:00",
        freq="weekly",
        count=3,
        skip_conflicts=True,
    )
    error = refused(answer, 409, "series_conflict")
    assert len(error["details"]["occurrences"]) == 3
    assert mine(client, world) == []


def test_series_occurrences_count_against_the_quota_together(client, world):
    answer = series(
        client,
        world,
        "maker",
        "printer",
        "2026-03-03 10:00",
        "2026-03-03 16:00",
        freq="daily",
        count=2,
    )
    error = refused(answer, 422, "series_rule_violation")
    [second] = error["details"]["occurrences"]
    assert datetime.fromisoformat(second["start"]) == seoul("2026-03-04 10:00")
    assert second["code"] == "quota_exceeded"


def test_series_reaching_past_the_furthest_day_ahead_is_refused(client, world):
    # Weekly from 3 March, the tenth occurrence (5 May) lies beyond the sixty days.
    answer = series(
        client,
        world,
        "maker",
        "room",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        freq="weekly",
        count=10,
    )
    error = refused(answer, 422, "series_rule_violation")
    assert [o["code"] for o in error["details"]["occurrences"]] == ["too_far_ahead"]


def test_series_with_neither_count_nor_until_is_422(client, world):
    answer = series(
        client, world, "maker", "room", "2026-03-03 10:00", "2026-03-03 11:00", freq="weekly"
    )
    refused(answer, 422, "recurrence")
    assert mine(client, world) == []


def test_series_with_both_count_and_until_is_422(client, world):
    answer = series(
        client,
        world,
        "maker",
        "room",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        freq="daily",
        count=3,
        until=seoul("2026-03-06 10:00").isoformat(),
    )
    refused(answer, 422, "recurrence")
    assert mine(client, world) == []


def test_series_ending_before_it_starts_is_422(client, world):
    answer = series(
        client,
        world,
        "maker",
        "room",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        freq="daily",
        until=seoul("2026-03-02 10:00").isoformat(),
    )
    refused(answer, 422, "recurrence")


@pytest.mark.parametrize(
    "recurrence",
    [{"count": 101}, {"until": "2027-03-03T10:00:00+09:00"}],
    ids=["count", "until"],
)
def test_series_of_more_than_the_maximum_occurrences_is_422(client, world, recurrence):
    answer = series(
        client,
        world,
        "maker",
        "room",
        "2026-03-03 10:00",
        "2026-03-03 11:00",
        freq="daily",
        **recurrence,
    )
    error = refused(answer, 422, "recurrence")
    assert error["details"] == {"max_recurrences": 100}
    assert mine(client, world) == []


@pytest.mark.parametrize("freq", ["monthly", "hourly"])
def test_series_with_an_unknown_frequency_is_422(client, world, freq):
    answer = series(
        client, world, "maker", "room", "2026-03-03 10:00", "2026-03-03 11:00", freq=freq, count=2
    )
    refused(answer, 422, "validation_error")


def test_operator_series_on_behalf_with_an_override_records_the_reason(client, world, engine):
    answer = book(
        client,
        world,
        "operator",
        "room",
        "2026-03-07 18:00",
        "2026-03-07 22:00",
        account_id=world.id("maker"),
        override_reason="evening workshop series",
        recurrence={"freq": "weekly", "count": 2},
    )
    assert answer.status_code == 201, answer.json
    made = answer.json["reservations"]
    assert [r["account_id"] for r in made] == [world.id("maker")] * 2
    assert {r["override_reason"] for r in made} == {"evening workshop series"}
    with Session(engine) as fresh:
        entry = fresh.exec(
            select(AuditLog).where(AuditLog.subject == f"series:{answer.json['series_id']}")
        ).one()
    assert entry.action == "series.create"
    assert entry.actor_id == world.id("operator")
    assert entry.detail["booked"] == 2
    assert entry.detail["override_reason"] == "evening workshop series"


# --- expanding a recurrence (the domain function) --------------------------------------


def _expand(recurrence: Recurrence, start: datetime, end: datetime, zone: str, limit: int = 100):
    return occurrences(recurrence=recurrence, start=start, end=end, zone_name=zone, limit=limit)


def test_exactly_the_maximum_number_of_occurrences_is_allowed():
    found = _expand(
        Recurrence(freq="daily", count=100),
        seoul("2026-03-03 10:00"),
        seoul("2026-03-03 11:00"),
        "Asia/Seoul",
    )
    assert len(found) == 100
    assert found[-1].start == seoul("2026-06-10 10:00")


def test_one_more_than_the_maximum_is_a_rule_violation():
    with pytest.raises(RuleViolation) as raised:
        _expand(
            Recurrence(freq="daily", count=101),
            seoul("2026-03-03 10:00"),
            seoul("2026-03-03 11:00"),
            "Asia/Seoul",
        )
    assert raised.value.code == "recurrence"


def test_occurrences_keep_the_local_time_across_a_daylight_saving_change():
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 3, 24, 10, tzinfo=berlin)
    found = _expand(
        Recurrence(freq="weekly", count=2),
        start,
        datetime(2026, 3, 24, 12, tzinfo=berlin),
        "Europe/Berlin",
    )
    # Summer time starts on 29 March: 10:00 local is 09:00 UTC before and 08:00 UTC after.
    assert [iv.start for iv in found] == [
        datetime(2026, 3, 24, 9, tzinfo=UTC),
        datetime(2026, 3, 31, 8, tzinfo=UTC),
    ]
    assert all(iv.end - iv.start == start.replace(hour=12) - start for iv in found)
