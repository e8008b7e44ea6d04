"""iCalendar feeds behind secret URLs, parsed back with the icalendar library."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar

from service.models import Account, Resource

BOOKING = {"start": "2026-03-03T10:00:00+09:00", "end": "2026-03-03T11:00:00+09:00"}


def book(client, world, **kw):
    answer = client.post(
        "/api/v1/reservations",
        headers=world.headers("maker"),
        json={"resource_id": world.id("printer"), **BOOKING, **kw},
    )
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def feed(client, secret: str) -> Calendar:
    answer = client.get(f"/ical/{secret}.ics")
    assert answer.status_code == 200
    assert answer.mimetype == "text/calendar"
    return Calendar.from_ical(answer.data)


def events(calendar: Calendar) -> dict[str, object]:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_account_feed_lists_the_makers_reservations_with_tzid(client, world, session):
    rid = book(client, world, note="가죽 재단")
    secret = session.get(Account, world.id("maker")).ical_secret
    calendar = feed(client, secret)
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"reservation-{rid}@smartfab"
    start = event.decoded("DTSTART")
    assert start == datetime(2026, 3, 3, 10, tzinfo=ZoneInfo("Asia/Seoul"))
    assert event["DTSTART"].params["TZID"] == "Asia/Seoul"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Seoul"]
    assert str(event["DESCRIPTION"]) == "가죽 재단"


def test_moving_keeps_the_uid_and_raises_the_sequence(client, world, session):
    rid = book(client, world)
    secret = session.get(Resource, world.id("printer")).ical_secret
    before = events(feed(client, secret))[f"reservation-{rid}@smartfab"]
    moved = client.patch(
        f"/api/v1/reservations/{rid}",
        headers=world.headers("maker"),
        json={"start": "2026-03-03T13:00:00+09:00", "end": "2026-03-03T14:00:00+09:00"},
    )
    assert moved.status_code == 200, moved.json
    after = events(feed(client, secret))[f"reservation-{rid}@smartfab"]
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after.decoded("DTSTART").hour == 13


def test_cancelled_events_carry_status_cancelled(client, world, session):
    rid = book(client, world)
    assert (
        client.delete(f"/api/v1/reservations/{rid}", headers=world.headers("maker")).status_code
        == 200
    )
    secret = session.get(Account, world.id("maker")).ical_secret
    event = events(feed(client, secret))[f"reservation-{rid}@smartfab"]
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) >= 1


def test_resource_feed_shows_every_bookers_reservation(client, world, session):
    book(client, world)
    client.post(
        "/api/v1/reservations",
        headers=world.headers("other"),
        json={
            "resource_id": world.id("printer"),
            "start": "2026-03-03T12:00:00+09:00",
            "end": "2026-03-03T13:00:00+09:00",
        },
    )
    secret = session.get(Resource, world.id("printer")).ical_secret
    assert len(feed(client, secret).walk("VEVENT")) == 2
    others = session.get(Account, world.id("other")).ical_secret
    assert len(feed(client, others).walk("VEVENT")) == 1


def test_unknown_secret_is_404(client, world):
    assert client.get("/ical/not-a-secret.ics").status_code == 404


def test_resource_feed_shows_times_but_not_the_bookers_notes(client, world, session):
    book(client, world, note="prototype for client X")
    secret = session.get(Resource, world.id("printer")).ical_secret
    (event,) = feed(client, secret).walk("VEVENT")
    assert "DESCRIPTION" not in event
    own = session.get(Account, world.id("maker")).ical_secret
    (mine,) = feed(client, own).walk("VEVENT")
    assert str(mine["DESCRIPTION"]) == "prototype for client X"
